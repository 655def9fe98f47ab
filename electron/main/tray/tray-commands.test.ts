import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  createGateway,
  parseConfig,
  silentLogger,
  type ClientEnvironment,
  type Gateway,
} from '../../../src/index.js';
import { claudeDesktopState, createTrayCommands } from './tray-commands.js';
import type { TrayState } from './tray-menu.js';

async function setUp(environment?: ClientEnvironment) {
  const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }));
  await gateway.start();
  const seen = { opened: [] as Array<string | undefined>, copied: [] as string[], notes: [] as string[] };
  let tray: Partial<TrayState> = {};
  const run = createTrayCommands({
    gateway: () => gateway,
    openConsole: (page) => seen.opened.push(page),
    copyText: (text) => seen.copied.push(text),
    quit: () => {},
    toggleStartAtLogin: async () => {},
    notify: (title, body) => seen.notes.push(`${title}: ${body}`),
    show: (next) => (tray = { ...tray, ...next }),
    logger: () => silentLogger,
    connectClient: (client) => connectClient(client, gateway.address!.mcpUrl, environment ? { environment } : {}),
  });
  return { gateway, run, seen, tray: () => tray, [Symbol.asyncDispose]: () => gateway.stop() };
}

async function linuxHome(): Promise<{ environment: ClientEnvironment; config: string }> {
  const home = await mkdtemp(join(tmpdir(), 'cortex-tray-'));
  await mkdir(join(home, '.config', 'Claude'), { recursive: true });
  const config = join(home, '.config', 'Claude', 'claude_desktop_config.json');
  await writeFile(config, JSON.stringify({ mcpServers: {}, theme: 'dark' }));
  return {
    environment: { platform: 'linux', homedir: home, env: { HOME: home }, execPath: process.execPath },
    config,
  };
}

describe('tray commands', () => {
  it('pauses and resumes the gateway and shows it in the tray', async () => {
    await using t = await setUp();
    await t.run('pause');
    expect(t.gateway.paused).toBe(true);
    expect(t.tray().gateway).toBe('paused');
    await t.run('resume');
    expect((t.gateway as Gateway).paused).toBe(false);
    expect(t.tray().gateway).toBe('running');
  });

  it('copies the MCP URL and opens the console on the approvals page', async () => {
    await using t = await setUp();
    await t.run('copy-url');
    await t.run('approvals');
    expect(t.seen.copied).toEqual([t.gateway.address!.mcpUrl]);
    expect(t.seen.opened).toEqual(['access']);
  });

  it('connects Claude Desktop, keeping its settings, and says what to do next', async () => {
    const { environment, config } = await linuxHome();
    await using t = await setUp(environment);
    expect(await claudeDesktopState(t.gateway.address!.mcpUrl, environment)).toBe('not-connected');
    await t.run('connect-claude');
    const written = JSON.parse(await readFile(config, 'utf8')) as {
      theme: string;
      mcpServers: Record<string, unknown>;
    };
    expect(written.theme).toBe('dark');
    expect(Object.keys(written.mcpServers)).toEqual(['cortex-gateway']);
    expect(t.tray().claudeDesktop).toBe('connected');
    expect(t.seen.notes[0]).toMatch(/^Claude Desktop connected: .*Quit Claude Desktop completely/);
    expect(await claudeDesktopState(t.gateway.address!.mcpUrl, environment)).toBe('connected');
  });

  it('tells the owner when Claude Desktop cannot be connected', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cortex-tray-none-'));
    const environment: ClientEnvironment = {
      platform: 'linux',
      homedir: home,
      env: { HOME: home },
      execPath: process.execPath,
    };
    await using t = await setUp(environment);
    await t.run('connect-claude');
    expect(t.seen.notes[0]).toMatch(/^Could not connect Claude Desktop: /);
    expect(t.tray().claudeDesktop).toBeUndefined();
  });

  it('reports a restart of an unknown server instead of throwing', async () => {
    await using t = await setUp();
    await t.run('restart:ghost');
    expect(t.seen.notes[0]).toMatch(/^Could not restart the server: .*ghost/);
  });
});
