import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configuredMcpUrl, DEFAULT_GATEWAY, locateGateway, parsePort, requireRunning } from './common.js';

describe('parsePort', () => {
  it.each([
    ['0', 0],
    ['3590', 3590],
    ['65535', 65535],
  ])('accepts %s', (text, port) => {
    expect(parsePort(text)).toBe(port);
  });

  it.each(['-1', '65536', '1.5', '1e3', ' 80', 'http', ''])('refuses %j as a usage error naming --port', (text) => {
    expect(() => parsePort(text)).toThrow(
      expect.objectContaining({
        code: 'invalid_argument',
        field: '--port',
        message: expect.stringContaining('from 0 to 65535'),
      }),
    );
  });
});

describe('configuredMcpUrl', () => {
  it('reaches a wildcard address through loopback and brackets IPv6', () => {
    expect(configuredMcpUrl({ host: '127.0.0.1', port: 3590 })).toBe('http://127.0.0.1:3590/mcp');
    expect(configuredMcpUrl({ host: '0.0.0.0', port: 1 })).toBe('http://127.0.0.1:1/mcp');
    expect(configuredMcpUrl({ host: '::1', port: 2 })).toBe('http://[::1]:2/mcp');
  });

  it('uses the schema defaults when there is no config', () => {
    expect(configuredMcpUrl(DEFAULT_GATEWAY)).toBe('http://127.0.0.1:3590/mcp');
  });
});

describe('locateGateway', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-cli-locate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('with --data-dir and need "none", reads no config and finds no running gateway', async () => {
    const place = await locateGateway({ 'data-dir': join(dir, 'data') }, 'none');
    expect(place).toEqual({ dataDir: join(dir, 'data'), loaded: undefined, running: undefined });
    expect(() => requireRunning(place)).toThrow(expect.objectContaining({ code: 'not_running' }));
  });

  it('"create" writes an empty config in the data folder on first run', async () => {
    const place = await locateGateway({ 'data-dir': join(dir, 'data') }, 'create');
    expect(place.loaded.configPath).toBe(join(dir, 'data', 'cortex.config.json'));
    expect(place.loaded.config.backends).toEqual([]);
  });

  it('"required" refuses a missing config (exit 66), "optional" goes on without one', async () => {
    await expect(locateGateway({ 'data-dir': dir }, 'required')).rejects.toMatchObject({ code: 'config_not_found' });
    expect((await locateGateway({ 'data-dir': dir }, 'optional')).loaded).toBeUndefined();
  });

  it('a runtime file naming a process that has exited is no running gateway', async () => {
    await mkdir(dir, { recursive: true });
    const info = { mcpUrl: 'http://127.0.0.1:1/mcp', consoleUrl: '', pid: 2 ** 22 + 12345, ownerToken: 't' };
    await writeFile(join(dir, 'runtime.json'), JSON.stringify(info));
    expect((await locateGateway({ 'data-dir': dir }, 'none')).running).toBeUndefined();
  });
});
