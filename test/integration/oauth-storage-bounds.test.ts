import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMetadataFetcher } from '../../src/oauth/client-metadata.js';
import { SIGNING_KEY_SEAL_ID } from '../../src/oauth/key-sealing.js';
import { OAUTH_MANIFEST } from '../../src/oauth/store.js';
import { nodeBackend, ROOT, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { filesUnder } from '../helpers/files.js';
import { approve, authorizationRequest, mcpStatus, ownerSession } from '../helpers/oauth.js';

const REDIRECT = 'http://127.0.0.1:5555/cb';
const TOY = { toy: { command: 'node', args: ['-e', ''] } };
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A POST with any Host header, to the listener at `port` (fetch cannot set Host). */
function post(port: number, host: string, path: string, body: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { host, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as Reply['body'] }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const register = (gw: RunningGateway, body: Record<string, unknown>) =>
  post(gw.address.port, gw.mcpUrl.host, '/register', body);

async function owner<T>(gw: RunningGateway, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await res.json()) as { ok: boolean; value: T };
  if (!answer.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer)}`);
  return answer.value;
}

const clientIds = async (gw: RunningGateway) =>
  (await owner<Array<{ clientId: string }>>(gw, 'GET', '/api/clients')).map((c) => c.clientId).sort();

/** Registers, has the owner approve, and exchanges the code: a client with a live grant. */
async function authorizedClient(gw: RunningGateway, name = 'Authorized') {
  const clientId = (await register(gw, { redirect_uris: [REDIRECT], client_name: name })).body.client_id as string;
  const { url, verifier } = authorizationRequest(gw.mcpUrl, { clientId, redirectUri: REDIRECT });
  const code = (await approve(url, await ownerSession(gw.gateway))).searchParams.get('code')!;
  const tokens = await tokenRequest(gw, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT,
  });
  expect(tokens.status).toBe(200);
  return { clientId, accessToken: tokens.body.access_token!, refreshToken: tokens.body.refresh_token! };
}

async function tokenRequest(gw: RunningGateway, form: Record<string, string>) {
  const res = await fetch(new URL('/token', gw.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Fails naming the file when any holds a private JWK member (`"d":`) or one of `secrets`. */
async function expectNoPrivateKeys(dataDir: string, secrets: string[] = []) {
  const files = await filesUnder(dataDir);
  expect(Object.keys(files).length).toBeGreaterThan(3);
  for (const [path, text] of Object.entries(files)) {
    expect(text, path).not.toMatch(/"d"\s*:/);
    for (const secret of secrets) expect(text, path).not.toContain(secret);
  }
}

/** A port free right now, so a gateway can be started on a port chosen before it runs. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('one registration budget per listener', () => {
  let bin: string;
  let state: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'cortex-cloudflared-'));
    state = await mkdtemp(join(tmpdir(), 'cortex-cloudflared-state-'));
    const fake = join(ROOT, 'test/fixtures/fake-cloudflared.mjs');
    await writeFile(join(bin, 'cloudflared'), `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`);
    await chmod(join(bin, 'cloudflared'), 0o755);
  });
  afterAll(async () => {
    for (const dir of [bin, state]) await rm(dir, { recursive: true, force: true });
  });

  it('registrations through 127.0.0.1, localhost and [::1] share one budget; the tunnel has its own', async () => {
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, FAKE_CLOUDFLARED_DIR: state };
    await using gw = await startGateway({}, {}, { env });
    const port = gw.address.port;
    const spellings = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    const body = { redirect_uris: [REDIRECT], client_name: 'flood' };
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await post(port, spellings[i % 3]!, '/register', body)).status);
    expect(statuses.every((s) => s === 201)).toBe(true);
    for (const host of spellings) {
      const refused = await post(port, host, '/register', body);
      expect(refused.status, host).toBe(429);
      expect(refused.body.error).toBe('slow_down');
    }

    const publicUrl = (await gw.gateway.tunnel.start()).publicUrl!;
    const forwardPort = await waitFor(async () => {
      for (const file of await readdir(state)) {
        const info = JSON.parse(await readFile(join(state, file), 'utf8')) as { url?: string; forwardPort?: number };
        if (info.url === publicUrl) return info.forwardPort;
      }
      return undefined;
    }, 'the fake cloudflared');
    const viaTunnel = await post(forwardPort, new URL(publicUrl).host, '/register', {
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      client_name: 'Claude',
    });
    expect(viaTunnel.status).toBe(201);
  });
});

describe('redirect URIs at registration', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(TOY, { maxRestarts: 1 });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  for (const uri of [
    'chrome://settings',
    'view-source:https://example.com/',
    'jar:https://example.com/a.jar!/x',
    'mailto:owner@example.com',
    'javascript:alert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
  ]) {
    it(`refuses ${uri} with invalid_redirect_uri, saying what is allowed`, async () => {
      const res = await register(gw, { redirect_uris: [REDIRECT, uri] });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_redirect_uri');
      expect(res.body.error_description).toMatch(/is not allowed: use https, loopback http, or a reverse-domain/);
    });
  }

  it('refuses more than 10 redirect URIs, and one longer than 2 KiB', async () => {
    const many = await register(gw, { redirect_uris: Array.from({ length: 11 }, (_, i) => `${REDIRECT}${i}`) });
    expect(many).toEqual({
      status: 400,
      body: {
        error: 'invalid_redirect_uri',
        error_description: 'redirect_uris: at most 10 are accepted, 11 were sent',
      },
    });
    const long = await register(gw, { redirect_uris: [`https://a.example/${'x'.repeat(2048)}`] });
    expect(long.status).toBe(400);
    expect(long.body.error_description).toBe('redirect_uris: each must be at most 2048 characters');
  });

  it('takes reverse-DNS private-use schemes and loopback http', async () => {
    const res = await register(gw, {
      redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1:7/cb', 'http://[::1]:7/cb', 'http://localhost/cb'],
    });
    expect(res.status).toBe(201);
    expect(res.body.redirect_uris).toEqual([
      'com.example.app:/cb',
      'http://127.0.0.1:7/cb',
      'http://[::1]:7/cb',
      'http://localhost/cb',
    ]);
  });

  it('applies the same rules to metadata documents', async () => {
    const documents: Record<string, unknown> = {
      '/chrome.json': { redirect_uris: ['chrome://settings'] },
      '/many.json': { redirect_uris: Array.from({ length: 11 }, (_, i) => `${REDIRECT}${i}`) },
    };
    const docServer = createServer((req, res) => {
      const doc = documents[req.url ?? ''];
      if (!doc) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: `https://app.test${req.url}`, ...(doc as object) }));
    });
    await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
    const port = (docServer.address() as { port: number }).port;
    try {
      const clientMetadata = new ClientMetadataFetcher({
        lookup: async () => ['127.0.0.1'],
        allowAddress: (address) => address === '127.0.0.1',
        request: (options, onResponse) => request({ ...options, port }, onResponse),
      });
      await using withDocs = await startGateway(TOY, { maxRestarts: 1 }, { clientMetadata });
      for (const [path, reason] of [
        ['/chrome.json', 'scheme chrome: is not allowed'],
        ['/many.json', 'at most 10 are accepted'],
      ] as const) {
        const { url } = authorizationRequest(withDocs.mcpUrl, {
          clientId: `https://app.test${path}`,
          redirectUri: REDIRECT,
          scope: null,
        });
        const res = await fetch(url, { redirect: 'manual' });
        expect(res.status, path).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(await res.text(), path).toContain(reason);
      }
      expect(withDocs.gateway.authorizationServer!.clients()).toEqual([]);
    } finally {
      docServer.close();
    }
  });
});

describe('stored clients', () => {
  it('expire when unused, never while they hold a live grant, also at the next start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-expiry-'));
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    try {
      let port: number;
      let used: string;
      {
        await using gw = await startGateway(TOY, { maxRestarts: 1 }, { dataDir, clock });
        port = gw.address.port;
        const unused = (await register(gw, { redirect_uris: [REDIRECT] })).body.client_id as string;
        used = (await authorizedClient(gw)).clientId;
        clock.offset += 25 * HOUR;
        const later = (await register(gw, { redirect_uris: [REDIRECT] })).body.client_id as string;
        // The one that never got a token is gone a day on; the authorized one stays.
        expect(await clientIds(gw)).toEqual([later, used].sort());
        expect(await clientIds(gw)).not.toContain(unused);
        // A month on, its refresh token (90 days) is still live: it stays.
        clock.offset += 31 * DAY;
        await register(gw, { redirect_uris: [REDIRECT] });
        expect(await clientIds(gw)).toContain(used);
      }
      // Its grant expired, and 30 more days without use: removed when the gateway starts.
      clock.offset += 90 * DAY;
      await using again = await startGateway(TOY, { maxRestarts: 1, port }, { dataDir, clock });
      expect(await clientIds(again)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('keep names cleaned of bidi and control characters, in the answer, the API and the files', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-names-'));
    try {
      await using gw = await startGateway(TOY, { maxRestarts: 1 }, { dataDir });
      const res = await register(gw, {
        redirect_uris: [REDIRECT],
        client_name: 'Claude\u202E\u2066gnp.exe\u2069\r\n2026-01-01T00:00:00Z INFO access granted\u200F',
      });
      const cleaned = 'Claude gnp.exe 2026-01-01T00:00:00Z INFO access granted';
      expect(res.body.client_name).toBe(cleaned);
      const listed = await owner<Array<{ clientId: string; clientName: string }>>(gw, 'GET', '/api/clients');
      expect(listed).toEqual([expect.objectContaining({ clientId: res.body.client_id, clientName: cleaned })]);
      const stored = Object.values(await filesUnder(join(dataDir, 'oauth'))).join('\n');
      expect(stored).toContain(cleaned);
      expect(stored).not.toMatch(/\\u202e|\u202E|\\u2066|\\r|\\u200f/i);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the OAuth store on disk', () => {
  it('writes only the collection a change touched, and survives a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-collections-'));
    const oauthDir = join(dataDir, 'oauth');
    const manifest = async () =>
      (JSON.parse(await readFile(join(oauthDir, OAUTH_MANIFEST), 'utf8')) as { files: Record<string, string> }).files;
    try {
      let port: number;
      let client: Awaited<ReturnType<typeof authorizedClient>>;
      {
        await using gw = await startGateway(TOY, { maxRestarts: 1 }, { dataDir });
        port = gw.address.port;
        client = await authorizedClient(gw);
        const before = await manifest();
        const stamp = async (name: string) => {
          const info = await stat(join(oauthDir, name));
          return `${info.mtimeMs}:${info.size}:${info.ino}`;
        };
        const stamps = Object.fromEntries(
          await Promise.all(Object.entries(before).map(async ([file, name]) => [file, await stamp(name)])),
        );
        expect(Object.keys(before).sort()).toEqual(
          ['clients', 'consents', 'keys', 'personal-tokens', 'refresh-families'].sort(),
        );
        await owner(gw, 'POST', '/api/tokens', { name: 'second', scopes: ['*'], ttlSeconds: 3600 });
        const after = await manifest();
        expect(after['personal-tokens']).not.toBe(before['personal-tokens']);
        for (const file of ['clients', 'consents', 'keys', 'refresh-families']) {
          expect(after[file], file).toBe(before[file]);
          expect(await stamp(after[file]!), file).toBe(stamps[file]);
        }
        expect((await readdir(oauthDir)).sort()).toEqual([...Object.values(after), OAUTH_MANIFEST].sort());
      }
      await using again = await startGateway(TOY, { maxRestarts: 1, port }, { dataDir });
      expect((await owner<Array<{ name: string }>>(again, 'GET', '/api/tokens')).map((t) => t.name)).toContain(
        'second',
      );
      expect(await clientIds(again)).toEqual([client.clientId]);
      // Signed before the restart, still verifying after it; the grant refreshes.
      expect(await mcpStatus(again.mcpUrl, client.accessToken)).toBe(200);
      const refreshed = await tokenRequest(again, {
        grant_type: 'refresh_token',
        refresh_token: client.refreshToken,
        client_id: client.clientId,
      });
      expect(refreshed.status).toBe(200);
      await expectNoPrivateKeys(dataDir);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('never hands the key sealing the signing keys to a backend that names it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-seal-ref-'));
    try {
      const backend = nodeBackend(join(ROOT, 'test/fixtures/env-server.mjs'), [], {
        STOLEN: `\${secret:${SIGNING_KEY_SEAL_ID}}`,
      });
      await using gw = await startGateway({ env: backend }, { maxRestarts: 0 }, { dataDir });
      const status = await waitFor(
        () => gw.gateway.backendStatuses().find((s) => s.state !== 'connecting'),
        'the backend to settle',
      );
      expect(status.state).not.toBe('ready');
      expect(status.lastError).toContain(`the secret "${SIGNING_KEY_SEAL_ID}" is not in the secret store`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('moves the single oauth.json of an earlier version in: the grant refreshes, the key signs on, sealed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-migrate-'));
    try {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const kid = 'legacy-key';
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
      const now = Date.now();
      const refreshToken = `fam1.${randomBytes(32).toString('base64url')}`;
      const legacy = {
        version: 1,
        keys: [
          {
            kid,
            privateJwk,
            publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
            createdAt: now - DAY,
            active: true,
          },
        ],
        clients: {
          'old-client': {
            clientId: 'old-client',
            clientName: 'Before\u202Ethe upgrade',
            redirectUris: [REDIRECT],
            tokenEndpointAuthMethod: 'none',
            source: 'dcr',
            createdAt: now - DAY,
            lastUsedAt: now - DAY,
          },
        },
        consents: { 'old-client': { clientId: 'old-client', scopes: ['mcp:toy:read'], decidedAt: now - DAY } },
        refreshFamilies: {
          fam1: {
            id: 'fam1',
            clientId: 'old-client',
            subject: 'owner',
            scopes: ['mcp:toy:read'],
            resource: `${origin}/mcp`,
            currentHash: createHash('sha256').update(refreshToken).digest('base64url'),
            createdAt: now - DAY,
            lastUsedAt: now - DAY,
            expiresAt: now + 89 * DAY,
          },
        },
        personalTokens: {},
        revokedJtis: {},
        revokedClients: {},
      };
      await writeFile(join(dataDir, 'oauth.json'), JSON.stringify(legacy, null, 2), { mode: 0o600 });
      // An access token the old version signed, still within its hour.
      const oldAccess = await new SignJWT({ client_id: 'old-client', scope: 'mcp:toy:read' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer(origin)
        .setAudience(`${origin}/mcp`)
        .setSubject('owner')
        .setIssuedAt()
        .setExpirationTime('1h')
        .setJti(randomBytes(8).toString('hex'))
        .sign(privateKey);

      let newRefresh: string;
      {
        await using gw = await startGateway(TOY, { maxRestarts: 1, port }, { dataDir });
        expect(await mcpStatus(gw.mcpUrl, oldAccess)).toBe(200);
        const refreshed = await tokenRequest(gw, {
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: 'old-client',
        });
        expect(refreshed.status).toBe(200);
        // The migrated key still signs: it was sealed, not replaced.
        expect(decodeProtectedHeader(refreshed.body.access_token!).kid).toBe(kid);
        expect(await mcpStatus(gw.mcpUrl, refreshed.body.access_token!)).toBe(200);
        newRefresh = refreshed.body.refresh_token!;
        expect(await owner(gw, 'GET', '/api/clients')).toEqual([
          expect.objectContaining({ clientId: 'old-client', clientName: 'Before the upgrade', activeGrants: 1 }),
        ]);
      }
      const names = await readdir(dataDir);
      expect(names).not.toContain('oauth.json');
      const backup = names.find((n) => n.startsWith('oauth.json.migrated-'));
      expect(backup).toBeDefined();
      const kept = JSON.parse(await readFile(join(dataDir, backup!), 'utf8')) as typeof legacy;
      expect(kept.refreshFamilies).toEqual(legacy.refreshFamilies);
      await expectNoPrivateKeys(dataDir, [privateJwk.d!]);

      // And the migrated store opens again as it is.
      await using again = await startGateway(TOY, { maxRestarts: 1, port }, { dataDir });
      const second = await tokenRequest(again, {
        grant_type: 'refresh_token',
        refresh_token: newRefresh,
        client_id: 'old-client',
      });
      expect(second.status).toBe(200);
      expect(decodeProtectedHeader(second.body.access_token!).kid).toBe(kid);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
