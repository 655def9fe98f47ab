import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyFileSecretStore } from '../../src/store/secrets.js';
import { homeEnv, runCliIn } from '../helpers/home-cli.js';
import { connectClient, nodeBackend, ROOT, startGateway, text, waitFor } from '../helpers/gateway.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');
const TOKEN = 'ghp_Imported_Token_0123456789';

const run = (args: string[], home: string) => runCliIn(home, args);

// Claude Desktop's file as a user has it: two servers, one with a token, and settings of its own.
const CLAUDE_CONFIG = {
  globalShortcut: 'Ctrl+Space',
  mcpServers: {
    github: { ...nodeBackend(ENV_SERVER), env: { GITHUB_TOKEN: TOKEN, MODE: 'plain' } },
    'web search': { command: process.execPath, args: [ENV_SERVER, '--web'] },
  },
};

describe('import from a client app', () => {
  let home: string;
  let claudePath: string;
  let original: string;
  const dataDir = () => join(home, 'cortex-data');
  const gatewayConfig = async () =>
    JSON.parse(await readFile(join(dataDir(), 'cortex.config.json'), 'utf8')) as {
      mcpServers: Record<string, { env?: Record<string, string> }>;
    };

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-import-'));
    claudePath = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await mkdir(dirname(claudePath), { recursive: true });
    original = JSON.stringify(CLAUDE_CONFIG, null, 2) + '\n';
    await writeFile(claudePath, original);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('adds every server as a backend, the token as a secret, and leaves the app alone', async () => {
    const result = await run(['import', 'claude-desktop'], home);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('secrets: env.GITHUB_TOKEN');
    const config = await gatewayConfig();
    expect(Object.keys(config.mcpServers)).toEqual(['github', 'web search']);
    expect(config.mcpServers.github!.env).toEqual({ GITHUB_TOKEN: '${secret:github.env.GITHUB_TOKEN}', MODE: 'plain' });
    expect(await createKeyFileSecretStore(dataDir()).get('github.env.GITHUB_TOKEN')).toBe(TOKEN);
    for (const name of await readdir(dataDir())) {
      expect(await readFile(join(dataDir(), name), 'utf8')).not.toContain(TOKEN);
    }
    expect(await readFile(claudePath, 'utf8')).toBe(original);
  });

  it('with --replace, moves the chosen server to the gateway entry and keeps a backup that undoes it', async () => {
    const result = await run(['import', 'claude-desktop', '--only', 'github', '--replace'], home);
    expect(result.code).toBe(0);
    expect(Object.keys((await gatewayConfig()).mcpServers)).toEqual(['github']);
    const after = JSON.parse(await readFile(claudePath, 'utf8')) as typeof CLAUDE_CONFIG;
    expect(Object.keys(after.mcpServers)).toEqual(['web search', 'cortex-gateway']);
    expect(after.globalShortcut).toBe('Ctrl+Space');
    const backup = /Backup: (.+)\n/.exec(result.stdout)![1]!;
    expect(result.stdout).toContain(`To undo, copy ${backup} back over`);
    expect(await readFile(backup, 'utf8')).toBe(original);
  });

  it('shows what it would do with --dry-run, changing nothing', async () => {
    const result = await run(['import', 'claude-desktop', '--dry-run'], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Would import:\n {2}github {2}stdio .*\n {2}web search {2}stdio/);
    expect(result.stdout).not.toContain(TOKEN);
    expect(Object.keys((await gatewayConfig()).mcpServers)).toEqual([]);
  });

  it('does not import the same server twice', async () => {
    await run(['import', 'claude-desktop'], home);
    const again = await run(['import', 'claude-desktop', '--json'], home);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: [], skipped: [] });
  });

  it('refuses a server the app does not have, naming the ones it has, and changes nothing', async () => {
    const result = await run(['import', 'claude-desktop', '--only', 'nope', '--replace'], home);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('"nope" is not configured in Claude Desktop');
    expect(result.stderr).toContain('has: github, web search');
    expect(await readFile(claudePath, 'utf8')).toBe(original);
  });

  it('leaves an unparseable app config untouched and says which file', async () => {
    await writeFile(claudePath, '{ "mcpServers": ');
    const result = await run(['import', 'claude-desktop', '--replace'], home);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${claudePath}: not valid JSON`);
    expect(await readFile(claudePath, 'utf8')).toBe('{ "mcpServers": ');
  });

  it('through the owner API: previews, imports live, and the backend gets its secret', async () => {
    const cursorPath = join(home, '.cursor', 'mcp.json');
    await mkdir(dirname(cursorPath), { recursive: true });
    await writeFile(
      cursorPath,
      JSON.stringify({ mcpServers: { gh: { ...nodeBackend(ENV_SERVER), env: { GITHUB_TOKEN: TOKEN } } } }),
    );
    const configPath = join(home, 'cortex.config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: {} }));
    await using gw = await startGateway({}, {}, { configPath, dataDir: home, env: homeEnv(home) });
    const owner = async (method: string, body?: unknown) => {
      const res = await fetch(new URL('/api/import/cursor', gw.mcpUrl), {
        method,
        headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await res.json()) as { ok: boolean; value: Record<string, unknown> };
    };
    const preview = await owner('GET');
    expect(preview.value.servers).toEqual([
      expect.objectContaining({ name: 'gh', status: 'new', secrets: ['env.GITHUB_TOKEN'] }),
    ]);
    expect(JSON.stringify(preview)).not.toContain(TOKEN);
    const imported = await owner('POST', { servers: ['gh'] });
    expect(imported.ok).toBe(true);
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'gh')?.state === 'ready', 'gh ready');
    await using session = await connectClient(gw.mcpUrl);
    const result = await session.client.callTool({ name: 'gh__env', arguments: { name: 'GITHUB_TOKEN' } });
    expect(text(result)).toBe(TOKEN);
    expect(await readFile(configPath, 'utf8')).not.toContain(TOKEN);
  });

  it('through the owner API: refuses a body that is not an import', async () => {
    const configPath = join(home, 'cortex.config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: {} }));
    await using gw = await startGateway({}, {}, { configPath, dataDir: home, env: homeEnv(home) });
    const res = await fetch(new URL('/api/import/claude-desktop', gw.mcpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ servers: 'github' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      code: 'invalid_argument',
      field: 'servers',
      message: 'must be a list of server names',
    });
    expect(await readFile(claudePath, 'utf8')).toBe(original);
  });
});
