import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolView } from '../../src/api/contract.js';
import type { BackendStatus } from '../../src/backends/types.js';
import { referencedSecrets } from '../../src/config/secret-refs.js';
import { backendSecretStore } from '../../src/oauth/key-sealing.js';
import { createKeyFileSecretStore } from '../../src/store/secrets.js';
import {
  connectClient,
  nodeBackend,
  ROOT,
  startGateway,
  text,
  TOY,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');

interface Answer {
  status: number;
  body: { ok: boolean; value?: unknown; error?: { code: string; message: string; field?: string } };
}

async function owner(gw: RunningGateway, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** A backend that is never started: edits of it cost a write, not a child process. */
const idle = (n: number) => ({ command: process.execPath, args: [`never-run-${n}.js`], enabled: false });

// Owner edits arriving together take turns: each applies on the result of the one before, or is
// refused with 409 and the reason. None is lost, and the file never refers to a missing secret.
describe('concurrent config edits through the owner API', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-concurrent-'));
    path = join(dir, 'cortex.config.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const saved = async () =>
    JSON.parse(await readFile(path, 'utf8')) as {
      mcpServers: Record<string, { env?: Record<string, string>; tools?: Record<string, unknown> }>;
      gateway?: { port?: number };
    };

  async function gatewayWith(mcpServers: Record<string, unknown>, env?: NodeJS.ProcessEnv) {
    await writeFile(path, JSON.stringify({ mcpServers }, null, 2));
    return startGateway(mcpServers, {}, { configPath: path, dataDir: dir, ...(env ? { env } : {}) });
  }

  it('lands all of 50 parallel PUTs of distinct backends, in the file and in /api/backends', async () => {
    await using gw = await gatewayWith({});
    const names = Array.from({ length: 50 }, (_, n) => `idle-${n}`);
    const answers = await Promise.all(names.map((name, n) => owner(gw, 'PUT', `/api/backends/${name}`, idle(n))));
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 200));
    expect(Object.keys((await saved()).mcpServers).sort()).toEqual([...names].sort());
    const listed = (await owner(gw, 'GET', '/api/backends')).body.value as BackendStatus[];
    expect(listed.map((s) => s.name).sort()).toEqual([...names].sort());
    expect(listed.every((s) => s.state === 'disabled')).toBe(true);
  });

  it('lands all of 26 parallel tool overrides on one backend, without restarting it', async () => {
    await using gw = await gatewayWith({ toy: nodeBackend(TOY, [], { TOY_TOOL_COUNT: '26' }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const pid = gw.gateway.backendStatuses()[0]!.pid;
    const tools = Array.from({ length: 26 }, (_, n) => `tool_${n}`);
    const answers = await Promise.all(
      tools.map((tool) => owner(gw, 'PUT', `/api/tools/toy/${tool}`, { enabled: false })),
    );
    expect(answers.map((a) => a.status)).toEqual(tools.map(() => 200));
    expect((await saved()).mcpServers.toy!.tools).toEqual(
      Object.fromEntries(tools.map((tool) => [tool, { enabled: false }])),
    );
    const views = (await owner(gw, 'GET', '/api/tools')).body.value as ToolView[];
    expect(views.filter((t) => tools.includes(t.original)).every((t) => !t.enabled)).toBe(true);
    expect(views.filter((t) => t.original.startsWith('tool_'))).toHaveLength(26);
    expect(gw.gateway.backendStatuses()[0]).toMatchObject({ pid, state: 'ready', restartCount: 0 });
  });

  it('lands a settings save and backend PUTs sent together', async () => {
    await using gw = await gatewayWith({});
    const answers = await Promise.all([
      owner(gw, 'PUT', '/api/backends/one', idle(1)),
      owner(gw, 'PUT', '/api/settings', { port: 4321 }),
      owner(gw, 'PUT', '/api/backends/two', idle(2)),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const file = await saved();
    expect(Object.keys(file.mcpServers).sort()).toEqual(['one', 'two']);
    expect(file.gateway?.port).toBe(4321);
  });

  it('never leaves a backend referring to a missing secret when a DELETE races a PUT, and the backend starts whenever it stays', async () => {
    await using gw = await gatewayWith({});
    // The backend secrets (the store also holds the key sealing the OAuth signing keys).
    const store = () => backendSecretStore(createKeyFileSecretStore(dir));
    const entry = (token: unknown, round: number, enabled = true) => ({
      ...nodeBackend(ENV_SERVER),
      env: { GH_TOKEN: token },
      timeoutMs: 10_000 + round,
      enabled,
    });
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < 20; round++) {
      // Saved disabled, so that only the racing PUT (which enables it) starts a child.
      const created = await owner(gw, 'PUT', '/api/backends/gh', entry({ secret: `start-${round}` }, round, false));
      expect(created.status).toBe(200);
      // Half the PUTs keep the saved secret (what the console sends back), half bring a new one;
      // each kind raced against the DELETE in both send orders.
      const keep = round % 4 < 2;
      const token = `fresh-${round}`;
      const put = () => owner(gw, 'PUT', '/api/backends/gh', entry(keep ? { secret: true } : { secret: token }, round));
      const del = () => owner(gw, 'DELETE', '/api/backends/gh');
      // A DELETE has no body to read, so sent together it nearly always takes its turn first; the
      // PUT-first rounds send the DELETE a moment later, while the PUT is being read and applied.
      const putFirst = round % 2 === 1;
      const [deleted, putted] = putFirst
        ? await Promise.all([new Promise((r) => setTimeout(r, 20)).then(del), put()])
        : await Promise.all([del(), put()]);

      expect(deleted.status).toBe(200);
      if (putted.status === 409) {
        // Only a PUT keeping a secret the DELETE removed is refused, and it says which value.
        expect(keep).toBe(true);
        expect(putted.body.error).toMatchObject({ code: 'conflict', field: 'mcpServers.gh.env.GH_TOKEN' });
      } else {
        expect(putted.status).toBe(200);
      }
      const file = await saved();
      const inFile = Object.hasOwn(file.mcpServers, 'gh');
      outcomes[`${keep ? 'keep' : 'fresh'} put ${putted.status} ${inFile ? 'stays' : 'gone'}`] =
        (outcomes[`${keep ? 'keep' : 'fresh'} put ${putted.status} ${inFile ? 'stays' : 'gone'}`] ?? 0) + 1;

      // Every reference in the file has its secret; no secret outlives its references.
      const ids = await store().ids();
      const referenced = [...referencedSecrets(file.mcpServers).keys()];
      for (const id of referenced) expect(ids).toContain(id);
      expect(ids.filter((id) => !referenced.includes(id))).toEqual([]);
      // The running backends are the file's.
      expect(gw.gateway.backendStatuses().some((s) => s.name === 'gh')).toBe(inFile);

      if (inFile) {
        const ready = await waitFor(
          () => gw.gateway.backendStatuses().find((s) => s.name === 'gh' && s.state !== 'connecting'),
          'gh settled',
        );
        expect(ready.state).toBe('ready');
        await using session = await connectClient(gw.mcpUrl);
        const value = text(await session.client.callTool({ name: 'gh__env', arguments: { name: 'GH_TOKEN' } }));
        expect(value).toBe(token);
      }
    }
    // Which way each race went, for whoever reads the test output.
    console.info('DELETE/PUT race outcomes', outcomes);
  }, 180_000);

  it('keeps five private backups of the config beside it, the newest equal to the previous file, secrets never in plain text', async () => {
    await using gw = await gatewayWith({});
    const secret = 'ghp_NeverInABackup_0123456789';
    expect((await owner(gw, 'PUT', '/api/backends/gh', { ...idle(0), env: { T: { secret } } })).status).toBe(200);
    let previous = '';
    for (let n = 1; n <= 7; n++) {
      previous = await readFile(path, 'utf8');
      expect((await owner(gw, 'PUT', `/api/backends/idle-${n}`, idle(n))).status).toBe(200);
    }
    const backups = (await readdir(dir)).filter((name) => name.endsWith('.bak')).sort();
    expect(backups).toEqual([1, 2, 3, 4, 5].map((n) => `cortex.config.json.${n}.bak`));
    expect(await readFile(join(dir, 'cortex.config.json.1.bak'), 'utf8')).toBe(previous);
    for (const name of backups) {
      if (process.platform !== 'win32') expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, name), 'utf8')).not.toContain(secret);
    }
    // The oldest kept is the file as it was five edits ago: idle-1 and idle-2 there, idle-3 not yet.
    const oldest = JSON.parse(await readFile(join(dir, 'cortex.config.json.5.bak'), 'utf8')) as {
      mcpServers: object;
    };
    expect(Object.keys(oldest.mcpServers).sort()).toEqual(['gh', 'idle-1', 'idle-2']);
  });

  it('refuses a tool override whose backend another edit removed first, with 409', async () => {
    await using gw = await gatewayWith({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const [removed, override] = await Promise.all([
      owner(gw, 'DELETE', '/api/backends/toy'),
      owner(gw, 'PUT', '/api/tools/toy/echo', { enabled: false }),
    ]);
    expect(removed.status).toBe(200);
    // Either the override ran first (then removed with its backend) or it was refused saying why.
    if (override.status !== 200) {
      expect(override.status).toBe(409);
      expect(override.body.error).toMatchObject({ code: 'conflict' });
      expect(override.body.error!.message).toMatch(/another edit removed it/);
    }
    expect((await saved()).mcpServers).toEqual({});
  });
});
