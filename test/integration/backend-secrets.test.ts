import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';
import { backendSecretStore } from '../../src/oauth/key-sealing.js';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { createKeyFileSecretStore } from '../../src/store/secrets.js';
import {
  CLI,
  connectClient,
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  text,
  TOY,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';
import { filesUnder } from '../helpers/files.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');
const TOKEN = 'ghp_Integration_Secret_0123456789';

// Backend secrets saved through the owner API (what the console's form sends): encrypted in the
// data folder, referenced from the config file, handed to the backend only when it starts.
describe('backend secrets through the owner API', () => {
  let dir: string;
  let configPath: string;
  let logs: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-secrets-'));
    configPath = join(dir, 'cortex.config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: {} }, null, 2));
    logs = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = () =>
    startGateway(
      {},
      {},
      {
        configPath,
        dataDir: dir,
        logger: createConsoleLogger({ level: 'debug', write: (line) => logs.push(line) }),
      },
    );

  async function owner(gw: RunningGateway, method: string, path: string, body?: unknown) {
    const res = await fetch(new URL(path, gw.mcpUrl), {
      method,
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  }

  const envBackend = (env: Record<string, unknown>) => ({ ...nodeBackend(ENV_SERVER), env });

  async function envOf(gw: RunningGateway, variable: string): Promise<string> {
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'gh')?.state === 'ready', 'gh ready');
    await using session = await connectClient(gw.mcpUrl);
    return text(await session.client.callTool({ name: 'gh__env', arguments: { name: variable } }));
  }

  it('hands the secret to the backend', async () => {
    await using gw = await start();
    const put = await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN }, MODE: 'x' }));
    expect(put.status).toBe(200);
    expect(await envOf(gw, 'GH_TOKEN')).toBe(TOKEN);
    expect(await envOf(gw, 'MODE')).toBe('x');
  });

  it('writes a reference, not the value, to the config file', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as {
      mcpServers: { gh: { env: Record<string, string> } };
    };
    expect(saved.mcpServers.gh.env).toEqual({ GH_TOKEN: '${secret:gh.env.GH_TOKEN}' });
  });

  it('leaves the plaintext in no file of the data folder', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    expect(await envOf(gw, 'GH_TOKEN')).toBe(TOKEN);
    // Every file, the backends' own working folders (`servers/<id>/`) included.
    const files = await filesUnder(dir);
    expect(Object.keys(files).length).toBeGreaterThan(0);
    for (const [file, text] of Object.entries(files)) expect(text, file).not.toContain(TOKEN);
  });

  it('shows secrets masked in the API, and never in a log line', async () => {
    await using gw = await start();
    const put = await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN }, MODE: 'x' }));
    expect(put.text).not.toContain(TOKEN);
    await envOf(gw, 'GH_TOKEN');
    const config = await owner(gw, 'GET', '/api/backends/gh/config');
    expect(JSON.parse(config.text)).toEqual({
      ok: true,
      value: { ...nodeBackend(ENV_SERVER), env: { GH_TOKEN: { secret: true }, MODE: 'x' } },
    });
    expect((await owner(gw, 'GET', '/api/backends')).text).not.toContain(TOKEN);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('keeps the saved secret when the console sends it back masked', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    const edited = { ...envBackend({ GH_TOKEN: { secret: true } }), timeoutMs: 5_000 };
    expect((await owner(gw, 'PUT', '/api/backends/gh', edited)).status).toBe(200);
    expect(await envOf(gw, 'GH_TOKEN')).toBe(TOKEN);
  });

  it('restarts the backend with a changed secret although the file looks the same', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    expect(await envOf(gw, 'GH_TOKEN')).toBe(TOKEN);
    const before = await readFile(configPath, 'utf8');
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: 'rotated' } }));
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(await envOf(gw, 'GH_TOKEN')).toBe('rotated');
  });

  // The same answer as when a DELETE ran first and removed it: nothing saved to keep is a conflict.
  it('refuses to keep a secret that was never saved with 409, naming the field', async () => {
    await using gw = await start();
    const put = await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: true } }));
    expect(put.status).toBe(409);
    expect(JSON.parse(put.text).error).toMatchObject({ code: 'conflict', field: 'mcpServers.gh.env.GH_TOKEN' });
  });

  it('deletes the secrets of a removed backend from the store', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    // The backend secrets (the store also holds the key sealing the OAuth signing keys).
    const backendSecrets = () => backendSecretStore(createKeyFileSecretStore(dir));
    expect(await backendSecrets().ids()).toEqual(['gh.env.GH_TOKEN']);
    expect((await owner(gw, 'DELETE', '/api/backends/gh')).status).toBe(200);
    expect(await backendSecrets().ids()).toEqual([]);
  });

  it('starts the backend with its secret after a gateway restart', async () => {
    {
      await using gw = await start();
      await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
      await envOf(gw, 'GH_TOKEN');
    }
    const loaded = await loadConfig({ configPath, dataDir: dir });
    const gateway = createGateway(
      { ...loaded.config, gateway: { ...loaded.config.gateway, port: 0 } },
      { configPath, dataDir: dir },
    );
    try {
      const address = await gateway.start();
      const { token } = await gateway.createPersonalToken({ name: 't', scopes: ['*'], ttlSeconds: 60 });
      await waitFor(() => gateway.backendStatuses()[0]?.state === 'ready', 'gh ready after restart');
      await using session = await connectClient(new URL(address.mcpUrl), token);
      const result = await session.client.callTool({ name: 'gh__env', arguments: { name: 'GH_TOKEN' } });
      expect(text(result)).toBe(TOKEN);
    } finally {
      await gateway.stop();
    }
  });

  it('sends a secret header to a remote backend', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_REQUIRE_HEADER: `x-api-key=${TOKEN}` });
    await using gw = await start();
    const put = await owner(gw, 'PUT', '/api/backends/remote', {
      type: 'http',
      url: toy.url.href,
      headers: { 'X-Api-Key': { secret: TOKEN } },
    });
    expect(put.status).toBe(200);
    const ready = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'remote' && s.state !== 'connecting'),
      'remote settled',
    );
    expect(ready.state).toBe('ready');
    expect(await readFile(configPath, 'utf8')).not.toContain(TOKEN);
  });

  it('masks the secret in what a backend prints and in its error', async () => {
    await using gw = await start();
    await owner(
      gw,
      'PUT',
      '/api/backends/gh',
      envBackend({ GH_TOKEN: { secret: TOKEN }, ENV_PRINT: 'GH_TOKEN', ENV_EXIT: '1' }),
    );
    const down = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'gh' && s.lastError),
      'gh failed',
    );
    expect(down.lastStderr).toEqual(['GH_TOKEN=••••']);
    expect(JSON.stringify(down)).not.toContain(TOKEN);
    const stderr = await owner(gw, 'GET', '/api/backends/gh/stderr');
    expect(stderr.text).toContain('GH_TOKEN=••••');
    expect(stderr.text).not.toContain(TOKEN);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('masks the secret in its encoded forms too: base64, inside a Basic header, URL-encoded, hex', async () => {
    await using gw = await start();
    const env = { GH_TOKEN: { secret: TOKEN }, ENV_PRINT: 'GH_TOKEN', ENV_PRINT_ENCODED: '1', ENV_EXIT: '1' };
    await owner(gw, 'PUT', '/api/backends/gh', envBackend(env));
    const down = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'gh' && s.lastError),
      'gh failed',
    );
    expect(down.lastStderr).toEqual([
      'GH_TOKEN=••••',
      'base64=••••',
      expect.stringMatching(/^Authorization: Basic dXNlcj.*••••/),
      'GET /api?key=••••',
      'hex=••••',
    ]);
    const forms = [
      TOKEN,
      Buffer.from(TOKEN).toString('base64'),
      Buffer.from(`user:${TOKEN}`).toString('base64'),
      encodeURIComponent(TOKEN),
      Buffer.from(TOKEN).toString('hex'),
    ];
    const stderr = (await owner(gw, 'GET', '/api/backends/gh/stderr')).text;
    for (const form of forms) {
      expect(JSON.stringify(down)).not.toContain(form);
      expect(stderr).not.toContain(form);
      expect(logs.join('\n')).not.toContain(form);
    }
    // What is left of the Basic header no longer decodes to the secret.
    const basic = down.lastStderr![2]!.slice('Authorization: Basic '.length).split('••••').join('');
    expect(Buffer.from(basic, 'base64').toString('latin1')).not.toContain(TOKEN.slice(2, -2));
  });

  it('masks a credential written in plain text in the config file like a stored one', async () => {
    const plain = 'plain-api-key-0123456789';
    const servers = { gh: envBackend({ OPENAI_API_KEY: plain, ENV_PRINT: 'OPENAI_API_KEY', ENV_PRINT_ENCODED: '1' }) };
    await writeFile(configPath, JSON.stringify({ mcpServers: servers }));
    await using gw = await startGateway(
      servers,
      {},
      {
        configPath,
        dataDir: dir,
        logger: createConsoleLogger({ level: 'debug', write: (line) => logs.push(line) }),
      },
    );
    await waitFor(() => gw.gateway.backendStatuses()[0]?.state === 'ready', 'gh ready');
    await waitFor(() => logs.some((line) => line.includes('hex=')), 'its stderr logged');
    const stderr = (await owner(gw, 'GET', '/api/backends/gh/stderr')).text;
    expect(stderr).toContain('OPENAI_API_KEY=••••');
    for (const form of [plain, Buffer.from(plain).toString('base64'), Buffer.from(plain).toString('hex')]) {
      expect(stderr).not.toContain(form);
      expect(logs.join('\n')).not.toContain(form);
    }
  });

  it('masks the secret in a JSON-RPC error the backend relays to a client', async () => {
    await using gw = await start();
    await owner(gw, 'PUT', '/api/backends/gh', envBackend({ GH_TOKEN: { secret: TOKEN } }));
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'gh')?.state === 'ready', 'gh ready');
    await using session = await connectClient(gw.mcpUrl);
    const error = await session.client.getPrompt({ name: 'gh__refuse', arguments: { name: 'GH_TOKEN' } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('upstream refused the key ••••');
    expect(error?.message).not.toContain(TOKEN);
  });

  it('stops `serve` with the path of a damaged secrets file, leaving the file as it was', async () => {
    await writeFile(join(dir, 'secrets.enc.json'), '{"version":1,"cipher":"aes-256-gcm+keyfile","data":"AAAA"}');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data-dir', dir, '--port', '0'], {
      env: { ...process.env, CORTEX_CONFIG: configPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(74); // secrets_unreadable: EX_IOERR
    expect(stderr).toContain(`${join(dir, 'secrets.enc.json')}: cannot be decrypted`);
    expect(await readFile(join(dir, 'secrets.enc.json'), 'utf8')).toContain('"AAAA"');
  });

  it('reports a missing secret as the backend error, naming the variable', async () => {
    const servers = { gh: envBackend({ GH_TOKEN: '${secret:gh.env.GH_TOKEN}' }) };
    await writeFile(configPath, JSON.stringify({ mcpServers: servers }));
    await using gw = await startGateway(servers, {}, { configPath, dataDir: dir });
    const down = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.lastError), 'gh failed');
    expect(down.lastError).toContain('env.GH_TOKEN: the secret "gh.env.GH_TOKEN" is not in the secret store');
  });
});
