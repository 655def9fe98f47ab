import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callOwnerApi } from '../../src/cli/common.js';
import { parseConfig } from '../../src/config/load.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/index.js';
import { SIGNING_KEY_SEAL_ID } from '../../src/oauth/key-sealing.js';
import { openKeyFileSecretStore, SECRETS_FILE_NAME } from '../../src/store/secrets.js';
import { DISK_KINDS, testDisk } from '../helpers/disk.js';
import { TOY, nodeBackend } from '../helpers/gateway.js';
import {
  authorizationRequest,
  decisionLocation,
  openConsent,
  ownerSession,
  submitConsent,
  type ConsentForm,
} from '../helpers/oauth.js';
import { exitedPid } from '../helpers/processes.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';

interface Running extends AsyncDisposable {
  gateway: Gateway;
  origin: string;
  /** An owner API call: status and ApiResult body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiBody }>;
}

type ApiBody = { ok: boolean; value?: unknown; error?: { code: string; message: string; field?: string } };

/** A gateway on the data folder (with its config file there), as `serve` runs it. */
async function start(dataDir: string, deps: GatewayDeps, port = 0): Promise<Running> {
  const configPath = join(dataDir, 'cortex.config.json');
  const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port } }), {
    ...deps,
    dataDir,
    configPath,
  });
  const { origin } = await gateway.start();
  return {
    gateway,
    origin,
    async api(method, path, body) {
      const res = await fetch(new URL(path, origin), {
        method,
        headers: { authorization: `Bearer ${gateway.ownerToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as ApiBody };
    },
    [Symbol.asyncDispose]: () => gateway.stop(),
  };
}

async function register(origin: string) {
  const res = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Disk Test', redirect_uris: [REDIRECT] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function tokenRequest(origin: string, form: Record<string, string>) {
  const res = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Temp files of unfinished writes in the data folder and in the OAuth store's folder. */
async function tempsLeft(disk: { dir: string; temps(): Promise<string[]> }): Promise<string[]> {
  const inOAuth = (await readdir(join(disk.dir, 'oauth'))).filter((name) => /\.\d+\.[0-9a-f]{8}\.tmp$/.test(name));
  return [...(await disk.temps()), ...inOAuth];
}

/** The secrets files (the sealing key of the OAuth signing keys is there from the start) and their content. */
async function secretFiles(dataDir: string): Promise<Record<string, string>> {
  const names = (await readdir(dataDir)).filter((n) => n.startsWith('secrets')).sort();
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(dataDir, n), 'utf8')])));
}

/** The secret-bearing backend the owner adds (disabled: nothing to spawn). */
const notesEntry = { ...nodeBackend(TOY), enabled: false, env: { NOTES_TOKEN: { secret: 'tok-123' } } };

describe.each(DISK_KINDS)('a full disk under a running gateway (%s)', (kind) => {
  it('answers every write disk_full naming the file, leaves nothing behind, and recovers without a restart', async () => {
    await using disk = await testDisk(kind, 2048);
    const dataDir = disk.dir;
    await writeFile(join(dataDir, 'cortex.config.json'), JSON.stringify({ mcpServers: {} }));
    const deps: GatewayDeps = { writeFile: disk.writeFile };
    // A change writes the collection it changed (src/oauth/store.ts): that file is the one named.
    const oauthFile = (collection: string) =>
      expect.stringMatching(new RegExp(`^${join(dataDir, 'oauth', collection)}\\.\\d+\\.json$`));
    let port: number;
    let refreshToken: string;
    let clientId: string;
    {
      await using gw = await start(dataDir, deps);
      port = gw.gateway.address!.port;
      const registered = await register(gw.origin);
      expect(registered.status).toBe(201);
      clientId = registered.body.client_id!;
      const { url: authorize, verifier } = authorizationRequest(gw.origin, {
        clientId,
        redirectUri: REDIRECT,
        scope: null,
        state: 's1',
      });
      const form: ConsentForm = await openConsent(authorize);
      // The owner, signed in to the console before the disk fills, approves on the consent page.
      const owner = await ownerSession(gw.gateway);
      const secretsBefore = await secretFiles(dataDir);

      await disk.fill();

      // Owner API: a personal token cannot be saved, so none is handed out, and none is listed.
      const created = await gw.api('POST', '/api/tokens', { name: 'while-full', scopes: ['*'], ttlSeconds: 3600 });
      expect(created.status).toBe(507);
      expect(created.body).toEqual({
        ok: false,
        error: {
          code: 'disk_full',
          message: expect.stringContaining('personal-tokens'),
          field: oauthFile('personal-tokens'),
        },
      });
      expect((await gw.api('GET', '/api/tokens')).body.value).toEqual([]);
      // The CLI keeps the API's code and the file at fault.
      await expect(
        callOwnerApi({ mcpUrl: `${gw.origin}/mcp`, ownerToken: gw.gateway.ownerToken }, 'POST', '/api/keys/rotate'),
      ).rejects.toMatchObject({ code: 'disk_full', field: oauthFile('keys') });

      // A backend with a secret. On a really full disk the edit's first write is its lock file
      // (config edits take turns across processes, src/config/file-lock.ts), so that is the file
      // named; through the seam (store writes only) it is the secrets file (its key exists since the
      // start: it seals the OAuth signing keys).
      const configLock = join(dataDir, 'cortex.config.json.lock');
      const saved = await gw.api('PUT', '/api/backends/notes', notesEntry);
      expect(saved.status).toBe(507);
      expect(saved.body.error).toMatchObject({
        code: 'disk_full',
        field: disk.kind === 'tmpfs' ? configLock : join(dataDir, SECRETS_FILE_NAME),
      });
      if (disk.kind === 'tmpfs') {
        // A plain edit (no secret, written without the seam, so only on a really full disk).
        const plain = await gw.api('PUT', '/api/backends/plain', { ...nodeBackend(TOY), enabled: false });
        expect(plain.status).toBe(507);
        expect(plain.body.error).toMatchObject({ code: 'disk_full', field: configLock });
      }
      expect((await gw.api('GET', '/api/backends')).body.value).toEqual([]);

      // OAuth: registration and consent fail with a description, and register nothing.
      const refused = await register(gw.origin);
      expect(refused.status).toBe(500);
      expect(refused.body).toEqual({ error: 'server_error', error_description: expect.stringMatching(/disk is full/) });
      expect(JSON.stringify(refused.body)).not.toContain(dataDir);
      expect(((await gw.api('GET', '/api/clients')).body.value as unknown[]).length).toBe(1);
      const consent = await submitConsent(form, 'approve', [], { owner });
      expect(consent.status).toBe(500);
      expect(await consent.json()).toEqual({
        ok: false,
        error: { code: 'disk_full', message: expect.stringMatching(/disk is full/) },
      });

      expect(await tempsLeft(disk)).toEqual([]);
      expect(await secretFiles(dataDir)).toEqual(secretsBefore);

      // Space again: the same consent form goes through, and a code whose exchange failed still works.
      await disk.free();
      const approved = await submitConsent(form, 'approve', [], { owner });
      const code = (await decisionLocation(approved)).searchParams.get('code')!;
      const exchange = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: clientId,
        code_verifier: verifier,
      };
      await disk.fill();
      const failed = await tokenRequest(gw.origin, exchange);
      expect(failed).toEqual({
        status: 500,
        body: { error: 'server_error', error_description: expect.stringMatching(/disk is full/) },
      });
      await disk.free();
      const tokens = await tokenRequest(gw.origin, exchange);
      expect(tokens.status).toBe(200);
      refreshToken = tokens.body.refresh_token!;
      // A revocation that cannot be saved is a 503 (RFC 7009 §2.2.1: the token stays valid, retry), not a 200.
      await disk.fill();
      const revoke = await fetch(`${gw.origin}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.body.access_token!, client_id: clientId }),
      });
      expect(revoke.status).toBe(503);
      await disk.free();

      expect((await gw.api('POST', '/api/tokens', { name: 'after', scopes: ['*'], ttlSeconds: 3600 })).status).toBe(
        201,
      );
      expect((await gw.api('PUT', '/api/backends/notes', notesEntry)).status).toBe(200);
      expect(await tempsLeft(disk)).toEqual([]);
    }

    // A restart on the same folder finds what was answered as saved, and nothing that was refused.
    await using again = await start(dataDir, deps, port);
    const listed = (await again.api('GET', '/api/tokens')).body.value as Array<{ name: string }>;
    expect(listed.map((t) => t.name)).toEqual(['after']);
    expect((await again.api('GET', '/api/clients')).body.value).toEqual([
      expect.objectContaining({ clientId, activeGrants: 1 }),
    ]);
    const refreshed = await tokenRequest(again.origin, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    });
    expect(refreshed.status).toBe(200);
    expect((await again.api('GET', '/api/backends/notes/config')).body.value).toMatchObject({
      env: { NOTES_TOKEN: { secret: true } },
    });
    const secrets = await openKeyFileSecretStore(dataDir);
    const backendIds = (await secrets.ids()).filter((id) => id !== SIGNING_KEY_SEAL_ID);
    expect(await Promise.all(backendIds.map((id) => secrets.get(id)))).toEqual(['tok-123']);
    expect((await readdir(dataDir)).filter((n) => n === SECRETS_FILE_NAME)).toHaveLength(1);
  });
});

describe('temp files of unfinished writes', () => {
  it("are removed at start when their process is gone; a live process's are kept", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-leftovers-'));
    const exited = await exitedPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const dead = `oauth.json.${exited}.0a1b2c3d.tmp`;
      const deadConfig = `cortex.config.json.${exited}.1a2b3c4d.tmp`;
      const kept = `secrets.enc.json.${live.pid}.0a1b2c3d.tmp`;
      // The OAuth store's own folder too.
      const deadOAuth = join('oauth', `clients.3.json.${exited}.2a3b4c5d.tmp`);
      await mkdir(join(dataDir, 'oauth'));
      for (const name of [dead, deadConfig, kept, deadOAuth]) await writeFile(join(dataDir, name), '{"half":');
      await writeFile(join(dataDir, 'cortex.config.json'), JSON.stringify({ mcpServers: {} }));
      await using _gw = await start(dataDir, {});
      const names = await readdir(dataDir);
      expect(names).toContain(kept);
      expect(names).not.toContain(dead);
      expect(names).not.toContain(deadConfig);
      expect((await readdir(join(dataDir, 'oauth'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      live.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
