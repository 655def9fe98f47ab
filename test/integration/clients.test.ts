import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLAUDE_DESKTOP_CLIENT_METADATA } from '../../src/clients/adapters/claude-desktop.js';
import { parseJsonc, toValue } from '../../src/clients/jsonc.js';
import { startGateway, waitFor } from '../helpers/gateway.js';
import { homeEnv, runCliIn, spawnCliIn } from '../helpers/home-cli.js';

const run = (args: string[], home: string) => runCliIn(home, args);
const cli = (args: string[], home: string) => spawnCliIn(home, args);

const URL_A = 'http://127.0.0.1:3590/mcp';
const URL_B = 'http://127.0.0.1:4100/mcp';

interface Case {
  client: string;
  /** Config file, relative to HOME (Linux locations). */
  config: string;
  serversKey: string;
  /** Something whose presence means "installed", apart from the config's own folder. */
  marker?: string;
  /** Our entry for a URL. */
  entry: (url: string) => unknown;
}

const cases: Case[] = [
  {
    client: 'claude-desktop',
    config: '.config/Claude/claude_desktop_config.json',
    serversKey: 'mcpServers',
    marker: '.local/share/applications/claude-desktop.desktop',
    entry: (url) => ({
      command: expect.stringMatching(/[/\\]npx(\.cmd)?$/),
      args: ['-y', 'mcp-remote', url, '--static-oauth-client-metadata', CLAUDE_DESKTOP_CLIENT_METADATA],
    }),
  },
  {
    client: 'claude-code',
    config: '.claude.json',
    serversKey: 'mcpServers',
    marker: '.claude/',
    entry: (url) => ({ type: 'http', url }),
  },
  {
    client: 'cursor',
    config: '.cursor/mcp.json',
    serversKey: 'mcpServers',
    marker: '.config/Cursor/',
    entry: (url) => ({ url }),
  },
  {
    client: 'vscode',
    config: '.config/Code/User/mcp.json',
    serversKey: 'servers',
    marker: '.config/Code/',
    entry: (url) => ({ type: 'http', url }),
  },
  {
    client: 'windsurf',
    config: '.codeium/windsurf/mcp_config.json',
    serversKey: 'mcpServers',
    marker: '.config/Windsurf/',
    entry: (url) => ({ serverUrl: url }),
  },
  {
    client: 'gemini-cli',
    config: '.gemini/settings.json',
    serversKey: 'mcpServers',
    entry: (url) => ({ httpUrl: url }),
  },
];

/** A config that already holds the user's own servers and unrelated settings. */
function existingConfig(serversKey: string) {
  return {
    theme: 'dark',
    numStartups: 42,
    [serversKey]: {
      memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { MEMORY_FILE: '/x' } },
      remote: { type: 'http', url: 'https://example.com/mcp', headers: { 'X-Key': 'k' } },
    },
    nested: { list: [1, 'two', { three: null }], flag: false },
  };
}

describe.each(cases)('cortex-gateway connect/disconnect $client', ({ client, config, serversKey, marker, entry }) => {
  let home: string;
  let file: string;
  let original: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), `cortex-clients-${client}-`));
    file = join(home, config);
    original = JSON.stringify(existingConfig(serversKey), null, 2) + '\n';
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function install() {
    if (!marker) return;
    const path = join(home, marker);
    if (marker.endsWith('/')) await mkdir(path, { recursive: true });
    else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, '[Desktop Entry]\n');
    }
  }

  async function withExisting() {
    await install();
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, original);
  }

  const read = async () => toValue(parseJsonc(await readFile(file, 'utf8'))) as Record<string, Record<string, unknown>>;
  const backups = async () => (await readdir(dirname(file))).filter((name) => name.endsWith('.bak'));

  it('adds our entry and leaves every other server and setting as it was, keeping a backup', async () => {
    await withExisting();
    const result = await run(['connect', client, '--url', URL_A], home);
    // Only warnings (Claude Desktop: npx outside a GUI app's PATH on some machines), no error.
    expect(result.stderr.replace(/^warning: .*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
    const after = await read();
    expect(after[serversKey]!['cortex-gateway']).toEqual(entry(URL_A));
    delete after[serversKey]!['cortex-gateway'];
    expect(after).toEqual(JSON.parse(original));
    const [backup] = await backups();
    expect(backup).toBeDefined();
    expect(await readFile(join(dirname(file), backup!), 'utf8')).toBe(original);
    expect(result.stdout).toContain(file);
  });

  it('connecting twice keeps one entry, and the second time writes nothing', async () => {
    await withExisting();
    expect((await run(['connect', client, '--url', URL_A], home)).code).toBe(0);
    const once = await readFile(file, 'utf8');
    const again = await run(['connect', client, '--url', URL_A], home);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already connected');
    expect(await readFile(file, 'utf8')).toBe(once);
    expect(once.match(/"cortex-gateway"/g)).toHaveLength(1);
    expect(await backups()).toHaveLength(1);
  });

  it('connecting to another URL replaces our entry rather than adding a second', async () => {
    await withExisting();
    await run(['connect', client, '--url', URL_A], home);
    expect((await run(['connect', client, '--url', URL_B], home)).code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text.match(/"cortex-gateway"/g)).toHaveLength(1);
    expect((await read())[serversKey]!['cortex-gateway']).toEqual(entry(URL_B));
  });

  it('disconnect gives back the original file', async () => {
    await withExisting();
    await run(['connect', client, '--url', URL_A], home);
    const result = await run(['disconnect', client], home);
    expect(result.code).toBe(0);
    expect(await read()).toEqual(JSON.parse(original));
    // The edit is a splice: even the bytes come back.
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('refuses a file that is not valid JSON, naming it, and leaves its bytes untouched', async () => {
    await install();
    await mkdir(dirname(file), { recursive: true });
    const broken = `{\n  "${serversKey}": { "memory": { "command": "npx" }\n  "theme": "dark"\n}\n`;
    await writeFile(file, broken);
    const result = await run(['connect', client, '--url', URL_A], home);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/not valid JSON \(line 3, column 3/);
    expect(await readFile(file, 'utf8')).toBe(broken);
    expect(await backups()).toEqual([]);
    expect((await run(['disconnect', client], home)).code).not.toBe(0);
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('refuses a client that is not installed, creating nothing', async () => {
    const result = await run(['connect', client, '--url', URL_A], home);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/does not seem to be installed/);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(dirname(file))).toBe(dirname(file) === home);
  });

  it.skipIf(!marker)('creates the missing config folder and file for an installed client', async () => {
    await install();
    const result = await run(['connect', client, '--url', URL_A], home);
    expect(result.code).toBe(0);
    expect((await read())[serversKey]).toEqual({ 'cortex-gateway': entry(URL_A) });
  });

  it('lists the client as installed and connected', async () => {
    await withExisting();
    const before = JSON.parse((await run(['clients', '--json', '--url', URL_A], home)).stdout) as Array<{
      client: string;
      installed: boolean;
      connected: boolean;
      configPath: string;
    }>;
    expect(before.find((c) => c.client === client)).toMatchObject({
      installed: true,
      connected: false,
      configPath: file,
    });
    await run(['connect', client, '--url', URL_A], home);
    const after = JSON.parse((await run(['clients', '--json', '--url', URL_A], home)).stdout) as typeof before;
    expect(after.find((c) => c.client === client)).toMatchObject({ installed: true, connected: true });
    const other = JSON.parse((await run(['clients', '--json', '--url', URL_B], home)).stdout) as typeof before;
    expect(other.find((c) => c.client === client)).toMatchObject({ connected: false, entryUrl: URL_A });
  });
});

describe('cortex-gateway connect: details', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-clients-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('keeps comments and trailing commas in VS Code’s JSONC mcp.json, and restores them on disconnect', async () => {
    const file = join(home, '.config/Code/User/mcp.json');
    await mkdir(dirname(file), { recursive: true });
    const jsonc = '{\n  // my servers\n  "servers": {\n    "git": { "command": "git-mcp" }, /* local */\n  },\n}\n';
    await writeFile(file, jsonc);
    expect((await run(['connect', 'vscode', '--url', URL_A], home)).code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('// my servers');
    expect(text).toContain('/* local */');
    expect(toValue(parseJsonc(text))).toEqual({
      servers: { git: { command: 'git-mcp' }, 'cortex-gateway': { type: 'http', url: URL_A } },
    });
    expect((await run(['disconnect', 'vscode'], home)).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(jsonc);
  });

  it('defaults the URL to the configured port when no gateway runs', async () => {
    await mkdir(join(home, '.gemini'));
    await mkdir(join(home, 'cortex-data'));
    await writeFile(join(home, 'cortex-data', 'cortex.config.json'), '{"mcpServers": {}, "gateway": {"port": 4321}}');
    expect((await run(['connect', 'gemini-cli'], home)).code).toBe(0);
    const settings = JSON.parse(await readFile(join(home, '.gemini/settings.json'), 'utf8'));
    expect(settings.mcpServers['cortex-gateway']).toEqual({ httpUrl: 'http://127.0.0.1:4321/mcp' });
  });

  it('defaults the URL to the running gateway’s', async () => {
    await mkdir(join(home, '.cursor'));
    const readyFile = join(home, 'ready.json');
    const serve = cli(['serve', '--port', '0', '--ready-file', readyFile], home);
    try {
      const ready = await waitFor(
        async () => JSON.parse(await readFile(readyFile, 'utf8')) as { mcpUrl: string },
        'gateway ready',
      );
      await waitFor(() => existsSync(join(home, 'cortex-data', 'runtime.json')), 'runtime file');
      expect((await run(['connect', 'cursor'], home)).code).toBe(0);
      const config = JSON.parse(await readFile(join(home, '.cursor/mcp.json'), 'utf8'));
      expect(config.mcpServers['cortex-gateway']).toEqual({ url: ready.mcpUrl });
    } finally {
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
  });

  it('writes through a symlinked config (dotfiles) instead of replacing the link', async () => {
    const { symlink, lstat } = await import('node:fs/promises');
    await mkdir(join(home, 'dotfiles'));
    await mkdir(join(home, '.cursor'));
    await writeFile(join(home, 'dotfiles', 'mcp.json'), '{"mcpServers": {}}\n');
    await symlink(join(home, 'dotfiles', 'mcp.json'), join(home, '.cursor', 'mcp.json'));
    expect((await run(['connect', 'cursor', '--url', URL_A], home)).code).toBe(0);
    expect((await lstat(join(home, '.cursor', 'mcp.json'))).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(join(home, 'dotfiles', 'mcp.json'), 'utf8')).mcpServers).toEqual({
      'cortex-gateway': { url: URL_A },
    });
  });

  it('refuses a servers value that is not an object, naming the key and the file', async () => {
    await mkdir(join(home, '.gemini'));
    const file = join(home, '.gemini/settings.json');
    await writeFile(file, '{"mcpServers": ["not", "an", "object"]}');
    const result = await run(['connect', 'gemini-cli', '--url', URL_A], home);
    expect(result.code).toBe(65); // client_config_invalid: EX_DATAERR
    expect(result.stderr).toContain(`${file}: "mcpServers" is not an object`);
    expect(await readFile(file, 'utf8')).toBe('{"mcpServers": ["not", "an", "object"]}');
  });

  it('lists a client whose config is broken with the reason, and still lists the others', async () => {
    await mkdir(join(home, '.cursor'));
    await writeFile(join(home, '.cursor/mcp.json'), '{"mcpServers": {,}}');
    const result = await run(['clients', '--json', '--url', URL_A], home);
    expect(result.code).toBe(0);
    const views = JSON.parse(result.stdout) as Array<{ client: string; connected: boolean; error?: string }>;
    expect(views).toHaveLength(6);
    expect(views.find((v) => v.client === 'cursor')).toMatchObject({
      connected: false,
      error: expect.stringContaining(`${join(home, '.cursor/mcp.json')}: not valid JSON`),
    });
  });

  it('names the clients when the one given is unknown', async () => {
    const result = await run(['connect', 'notepad'], home);
    expect(result.code).toBe(66); // not_found
    expect(result.stderr).toContain('unknown client "notepad"; one of: claude-desktop, claude-code, cursor');
  });

  it('disconnect without a config file changes nothing and says so', async () => {
    const result = await run(['disconnect', 'cursor'], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('nothing changed');
    expect(existsSync(join(home, '.cursor'))).toBe(false);
  });
});

describe('owner API: /api/connections', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-connections-'));
    await mkdir(join(home, '.cursor'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function call(gw: { mcpUrl: URL; gateway: { ownerToken: string } }, method: string, path: string) {
    const res = await fetch(new URL(path, gw.mcpUrl), {
      method,
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    return {
      status: res.status,
      body: (await res.json()) as { ok: boolean; value?: unknown; error?: { code: string; message: string } },
    };
  }

  it('lists, connects to the gateway’s own URL, and disconnects a client', async () => {
    await using gw = await startGateway({}, {}, { env: homeEnv(home) });
    const listed = await call(gw, 'GET', '/api/connections');
    expect(listed.body.value).toContainEqual(
      expect.objectContaining({ client: 'cursor', installed: true, connected: false }),
    );
    const connected = await call(gw, 'POST', '/api/connections/cursor');
    expect(connected.status).toBe(200);
    expect(connected.body.value).toMatchObject({ client: 'cursor', changed: true });
    expect(JSON.parse(await readFile(join(home, '.cursor/mcp.json'), 'utf8'))).toEqual({
      mcpServers: { 'cortex-gateway': { url: gw.mcpUrl.href } },
    });
    const after = await call(gw, 'GET', '/api/connections');
    expect(after.body.value).toContainEqual(expect.objectContaining({ client: 'cursor', connected: true }));
    expect((await call(gw, 'DELETE', '/api/connections/cursor')).body.value).toMatchObject({ changed: true });
    expect(JSON.parse(await readFile(join(home, '.cursor/mcp.json'), 'utf8'))).toEqual({ mcpServers: {} });
  });

  it('warns when connecting while the gateway sits on a fallback port', async () => {
    // Someone else holds the configured port, so the gateway starts on the next one.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const busy = (squatter.address() as AddressInfo).port;
    try {
      await using gw = await startGateway({}, { port: busy }, { env: homeEnv(home), portFallback: true });
      expect(gw.address.port).not.toBe(busy);
      const connected = await call(gw, 'POST', '/api/connections/cursor');
      expect((connected.body.value as { warnings: string[] }).warnings[0]).toContain(`because port ${busy} was busy`);
    } finally {
      squatter.close();
    }
  });

  it('answers 409 with the reason for a client that is not installed, and 404 for an unknown one', async () => {
    await using gw = await startGateway({}, {}, { env: homeEnv(home) });
    const missing = await call(gw, 'POST', '/api/connections/windsurf');
    expect(missing.status).toBe(409);
    expect(missing.body.error).toMatchObject({ code: 'client_not_installed' });
    const unknown = await call(gw, 'POST', '/api/connections/notepad');
    expect(unknown.status).toBe(404);
  });

  it('refuses a connect body whose url is not an http(s) URL, naming the field', async () => {
    await using gw = await startGateway({}, {}, { env: homeEnv(home) });
    const res = await fetch(new URL('/api/connections/cursor', gw.mcpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'javascript:alert(1)' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      ok: false,
      error: { code: 'invalid_argument', message: 'must be an absolute http(s) URL', field: 'url' },
    });
    expect(existsSync(join(home, '.cursor/mcp.json'))).toBe(false);
  });

  it('requires the owner', async () => {
    await using gw = await startGateway({}, {}, { env: homeEnv(home) });
    const res = await fetch(new URL('/api/connections/cursor', gw.mcpUrl), { method: 'POST' });
    expect(res.status).toBe(401);
    expect(existsSync(join(home, '.cursor/mcp.json'))).toBe(false);
  });
});
