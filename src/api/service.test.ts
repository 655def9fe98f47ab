import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendPool } from '../backends/pool.js';
import { createConfigEditor } from '../config/editor.js';
import { parseConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { Federation } from '../federation/federation.js';
import { ActivityLog } from '../mcp/activity.js';
import { GatewayError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { createMemorySecretStore } from '../store/secrets.js';
import type { TunnelStatus } from './contract.js';
import { createConsoleApi, type ConsoleApiDeps } from './service.js';

const clock = { now: () => 1_700_000_000_000 };
const FILE = { mcpServers: { toy: { command: process.execPath, args: ['toy.mjs'] } }, gateway: { port: 3590 } };

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * The service over real parts: a config file in a temp folder, its serialized editor, a backend
 * pool (never started: no child runs) and the federation over it. Only the listener-side parts
 * (address, tunnel, OAuth) are plain values the test sets.
 */
async function setup(options: { withFile?: boolean; listeningPort?: number; tunnel?: Partial<TunnelStatus> } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-service-'));
  dirs.push(dir);
  const path = join(dir, 'cortex.config.json');
  await writeFile(path, JSON.stringify(FILE, null, 2));
  let config: GatewayConfig = parseConfig(FILE);
  const secrets = createMemorySecretStore();
  const backendOptions = { logger: silentLogger, clock, clientInfo: { name: 'test', version: '0' }, secrets };
  const pool = new BackendPool({ ...backendOptions, config });
  const federation = new Federation(pool, silentLogger);
  const editor = createConfigEditor({
    path,
    secrets,
    apply: async (edit) => {
      config = Object.freeze({ ...edit.config, gateway: config.gateway });
      await pool.reconcile(config.backends, new Set(edit.secretsChanged));
    },
    logger: silentLogger,
  });
  const home = join(dir, 'home');
  await mkdir(join(home, '.cursor'), { recursive: true });
  let paused = false;
  const tunnelStatus: TunnelStatus = {
    provider: 'test',
    state: 'stopped',
    since: 0,
    restartCount: 0,
    ...options.tunnel,
  };
  const port = options.listeningPort ?? 3590;
  const deps: ConsoleApiDeps = {
    version: '1.2.3',
    cliCommand: 'cortex-gateway',
    clock,
    logger: silentLogger,
    config: () => config,
    ...(options.withFile === false ? {} : { configPath: path, editor }),
    env: { HOME: home },
    pool,
    federation,
    activity: new ActivityLog({ recordArguments: false, now: () => clock.now() }),
    backendOptions,
    oauth: () => undefined,
    address: () => ({ mcpUrl: `http://127.0.0.1:${port}/mcp`, port }),
    origins: () => [],
    grantsChanged: () => undefined,
    paused: () => paused,
    setPaused: (value) => void (paused = value),
    tunnel: { status: () => tunnelStatus, start: async () => tunnelStatus, stop: async () => tunnelStatus },
    loginToken: () => 'one-time',
  };
  const api = createConsoleApi(deps);
  return { api, path, home, [Symbol.asyncDispose]: () => pool.stop() };
}

async function refusal(promise: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { code: error.code, field: error.field, message: error.message };
  }
  throw new Error('expected a refusal');
}

describe('the console API service', () => {
  it('warns, when connecting an app to a gateway on a fallback port, that the app will lose it', async () => {
    await using s = await setup({ listeningPort: 3591 });
    const change = await s.api.connectClient('cursor');
    expect(change.warnings[0]).toContain('because port 3590 was busy');
    const written = JSON.parse(await readFile(join(s.home, '.cursor', 'mcp.json'), 'utf8')) as {
      mcpServers: Record<string, { url: string }>;
    };
    expect(Object.values(written.mcpServers)[0]!.url).toBe('http://127.0.0.1:3591/mcp');
  });

  it('does not warn on the configured port, nor for a URL the caller chose', async () => {
    await using s = await setup();
    expect((await s.api.connectClient('cursor')).warnings).toEqual([]);
    await using other = await setup({ listeningPort: 3591 });
    expect((await other.api.connectClient('cursor', { url: 'http://127.0.0.1:9/mcp' })).warnings).toEqual([]);
  });

  it('refuses an invalid backend as the caller’s fault, naming the JSON path, and leaves the file whole', async () => {
    await using s = await setup();
    const before = await readFile(s.path, 'utf8');
    expect(await refusal(s.api.putBackend('web', { type: 'http', url: 'ftp://x' }))).toMatchObject({
      code: 'invalid_argument',
      field: 'mcpServers.web.url',
    });
    expect(await readFile(s.path, 'utf8')).toBe(before);
  });

  it('runs the owner check in the edit’s turn: a refusal there saves nothing', async () => {
    await using s = await setup();
    const before = await readFile(s.path, 'utf8');
    const gone = () => {
      throw new GatewayError('unauthorized', 'signed out');
    };
    const entry = { command: process.execPath, args: ['other.mjs'] };
    expect(await refusal(s.api.putBackend('other', entry, gone))).toMatchObject({ code: 'unauthorized' });
    expect(await readFile(s.path, 'utf8')).toBe(before);
  });

  it('answers not_found for a backend it does not have', async () => {
    await using s = await setup();
    expect(await refusal(() => s.api.backendStderr('ghost'))).toMatchObject({ code: 'not_found' });
    expect(await refusal(s.api.backendConfig('ghost'))).toMatchObject({ code: 'not_found' });
    expect(await refusal(s.api.deleteBackend('ghost'))).toMatchObject({ code: 'not_found' });
    expect(await refusal(s.api.setToolOverride('ghost', 'echo', { enabled: false }))).toMatchObject({
      code: 'not_found',
    });
  });

  it('saves the port to the file and shows it beside the one in use', async () => {
    await using s = await setup();
    const view = await s.api.saveSettings({ port: 4123 });
    expect(view).toMatchObject({ port: 4123, listeningPort: 3590, configPath: s.path, version: '1.2.3' });
    expect((JSON.parse(await readFile(s.path, 'utf8')) as typeof FILE).gateway.port).toBe(4123);
  });

  it('refuses to save settings without a config file (no_config_file), and edits likewise', async () => {
    await using s = await setup({ withFile: false });
    expect(await refusal(s.api.saveSettings({ port: 4123 }))).toMatchObject({ code: 'no_config_file' });
    expect(await refusal(s.api.putBackend('x', {}))).toMatchObject({ code: 'not_found' });
  });

  it('refuses the OAuth operations before the gateway started, and a failed tunnel with its reason', async () => {
    await using s = await setup({ tunnel: { state: 'failed', lastError: 'cloudflared not found' } });
    expect(await refusal(() => s.api.clients())).toMatchObject({ code: 'not_running' });
    expect(await refusal(s.api.setClientScopes('c', []))).toMatchObject({ code: 'not_running' });
    expect(await refusal(s.api.startTunnel())).toEqual({
      code: 'tunnel_failed',
      field: undefined,
      message: 'cloudflared not found',
    });
  });

  it('pauses and resumes, answering the gateway status; a login link carries a one-time token', async () => {
    await using s = await setup();
    expect(s.api.setGateway({ paused: true })).toMatchObject({ paused: true, mcpUrl: 'http://127.0.0.1:3590/mcp' });
    expect(s.api.gateway().paused).toBe(true);
    expect(s.api.loginLink('http://127.0.0.1:3590')).toEqual({
      url: 'http://127.0.0.1:3590/app/login?token=one-time',
    });
  });
});
