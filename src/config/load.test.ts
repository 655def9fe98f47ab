import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../shared/errors.js';
import { backendId, defaultDataDir, loadConfig, parseConfig } from './load.js';

describe('parseConfig', () => {
  it('applies defaults to stdio and http backends', () => {
    const config = parseConfig({
      mcpServers: {
        fs: { command: 'npx', args: ['-y', 'x'] },
        web: { type: 'streamable-http', url: 'https://x.dev/mcp' },
      },
    });
    expect(config.backends[0]).toMatchObject({
      name: 'fs',
      id: 'fs',
      type: 'stdio',
      enabled: true,
      timeoutMs: 60000,
      env: {},
    });
    expect(config.backends[1]).toMatchObject({ name: 'web', type: 'http', headers: {} });
    expect(config.gateway).toMatchObject({ port: 3590, host: '127.0.0.1' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('explains a backend with neither command nor url, naming it', () => {
    expect(() => parseConfig({ mcpServers: { x: { args: [] } } })).toThrow(
      expect.objectContaining({
        field: 'mcpServers.x',
        message: expect.stringMatching(/^config: a backend needs either "command"/),
      }),
    );
  });

  it('names the path of a bad url', () => {
    expect(() => parseConfig({ mcpServers: { x: { type: 'http', url: 'ftp://x' } } })).toThrow(
      expect.objectContaining({ field: 'mcpServers.x.url', message: 'config: must be an absolute http(s) URL' }),
    );
  });

  it('names the path of a bad port', () => {
    expect(() => parseConfig({ mcpServers: {}, gateway: { port: 70000 } })).toThrow(
      expect.objectContaining({
        field: 'gateway.port',
        message: 'config: must be a whole number from 0 to 65535 (0 picks any free port)',
      }),
    );
  });

  it('carries the field at fault on the error, for the owner API to point at', () => {
    const fieldOf = (input: unknown) => {
      try {
        parseConfig(input);
      } catch (error) {
        return (error as GatewayError).field;
      }
      return 'no error';
    };
    expect(fieldOf({ mcpServers: { web: { type: 'http', url: 'ftp://x' } } })).toBe('mcpServers.web.url');
    expect(fieldOf({ mcpServers: {}, gateway: { port: 70000 } })).toBe('gateway.port');
    expect(fieldOf({ mcpServers: { 'my server': { command: 'a' }, my_server: { command: 'b' } } })).toBe(
      'mcpServers.my_server',
    );
    expect(fieldOf({ mcpServers: {}, gateway: { restartBaseMs: 100, restartMaxMs: 50 } })).toBe('gateway.restartMaxMs');
  });

  it('rejects an unknown gateway setting, naming it', () => {
    expect(() => parseConfig({ mcpServers: {}, gateway: { prot: 1 } })).toThrow(/prot/);
  });

  it('refuses a whole-request limit shorter than the headers limit, naming the field', () => {
    expect(() => parseConfig({ mcpServers: {}, gateway: { headersTimeoutMs: 5000, receiveTimeoutMs: 2000 } })).toThrow(
      expect.objectContaining({ field: 'gateway.receiveTimeoutMs' }),
    );
  });

  it('defaults the listener limits', () => {
    expect(parseConfig({ mcpServers: {} }).gateway).toMatchObject({
      headersTimeoutMs: 30_000,
      receiveTimeoutMs: 120_000,
      maxConnections: 512,
    });
  });

  it('refuses a backend name containing "__", naming the field, rather than renaming it', () => {
    for (const name of ['a__b', 'a._b', 'my  server', 'x. y']) {
      let error: unknown;
      try {
        parseConfig({ mcpServers: { [name]: { command: 'a' } } });
      } catch (caught) {
        error = caught;
      }
      expect(error, name).toMatchObject({ code: 'config_invalid', field: `mcpServers.${name}` });
      expect((error as Error).message, name).toMatch(/^config: backend names may not contain "__"/);
    }
  });

  it('accepts names with single separators, and ones ending in "_"', () => {
    const config = parseConfig({
      mcpServers: { 'my server': { command: 'a' }, a_b: { command: 'b' }, c_: { command: 'c' } },
    });
    expect(config.backends.map((b) => b.id)).toEqual(['my_server', 'a_b', 'c_']);
  });

  it('rejects two names that map to the same namespace', () => {
    expect(() => parseConfig({ mcpServers: { 'my server': { command: 'a' }, my_server: { command: 'b' } } })).toThrow(
      /same namespace "my_server"/,
    );
  });

  it('keeps unrelated top-level keys of a Claude Desktop config out of the way', () => {
    expect(parseConfig({ mcpServers: {}, globalShortcut: 'Ctrl+Space' }).backends).toEqual([]);
  });
});

describe('backendId', () => {
  it('replaces odd characters and caps the length', () => {
    expect(backendId('My Server.v2')).toBe('My_Server_v2');
    expect(backendId('x'.repeat(40))).toHaveLength(32);
  });
});

describe('defaultDataDir', () => {
  it('follows each OS convention', () => {
    expect(defaultDataDir('darwin', {}, '/Users/a')).toBe('/Users/a/Library/Application Support/Cortex Gateway');
    expect(defaultDataDir('linux', {}, '/home/a')).toBe('/home/a/.config/cortex-gateway');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/cfg' }, '/home/a')).toBe('/cfg/cortex-gateway');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\AppData' }, 'C:\\Users\\a')).toContain('Cortex Gateway');
  });
  it('ignores an empty or relative XDG_CONFIG_HOME, as the XDG spec says', () => {
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '' }, '/home/a')).toBe('/home/a/.config/cortex-gateway');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: 'relative' }, '/home/a')).toBe('/home/a/.config/cortex-gateway');
  });

  it('lets CORTEX_DATA_DIR win', () => {
    expect(defaultDataDir('darwin', { CORTEX_DATA_DIR: '/data' }, '/Users/a')).toBe('/data');
  });
});

describe('loadConfig', () => {
  it('creates an empty config on first run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-load-'));
    const loaded = await loadConfig({ dataDir: dir, createIfMissing: true, env: {} });
    expect(JSON.parse(await readFile(join(dir, 'cortex.config.json'), 'utf8'))).toEqual({ mcpServers: {} });
    expect(loaded.explicitPort).toBe(false);
  });

  it('fails with config_not_found for an explicit path that does not exist', async () => {
    await expect(loadConfig({ configPath: '/nonexistent/cortex.json', env: {} })).rejects.toMatchObject({
      code: 'config_not_found',
    });
  });

  it('takes CORTEX_PORT over the file and rejects a bad one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-load-'));
    const path = join(dir, 'c.json');
    await writeFile(path, JSON.stringify({ mcpServers: {}, gateway: { port: 4000 } }));
    expect((await loadConfig({ configPath: path, env: { CORTEX_PORT: '0' } })).config.gateway.port).toBe(0);
    await expect(loadConfig({ configPath: path, env: { CORTEX_PORT: 'abc' } })).rejects.toMatchObject({
      code: 'config_invalid',
      field: 'CORTEX_PORT',
      message: 'must be a whole number from 0 to 65535 (0 picks any free port), got "abc"',
    });
  });
});
