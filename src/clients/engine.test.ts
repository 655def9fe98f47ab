import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editClientServers, ENTRY_NAME, fallbackPortWarning, listClientServers } from './engine.js';
import type { ClientEnvironment } from './types.js';

// The engine against files in a temporary home, as import (issue 5) will use it.
describe('reading and editing a client’s servers', () => {
  let home: string;
  let environment: ClientEnvironment;
  const settings = () => join(home, '.gemini', 'settings.json');
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-engine-'));
    environment = { platform: 'linux', homedir: home, env: {} };
    await mkdir(join(home, '.gemini'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lists the servers a client has, without our own entry', async () => {
    await writeFile(
      settings(),
      JSON.stringify({ mcpServers: { a: { command: 'x' }, [ENTRY_NAME]: { httpUrl: 'http://127.0.0.1:1/mcp' } } }),
    );
    expect(await listClientServers('gemini-cli', { environment })).toEqual({
      configPath: settings(),
      servers: { a: { command: 'x' } },
    });
  });

  it('lists no servers when the client has no config file', async () => {
    expect((await listClientServers('cursor', { environment })).servers).toEqual({});
  });

  it('refuses to list from a broken file, naming it', async () => {
    await writeFile(settings(), '{ nope');
    await expect(listClientServers('gemini-cli', { environment })).rejects.toThrow(`${settings()}: not valid JSON`);
  });

  it('sets and removes named entries in one backed-up write', async () => {
    const original = JSON.stringify({ mcpServers: { a: { command: 'x' }, b: { command: 'y' } } }, null, 2) + '\n';
    await writeFile(settings(), original);
    const outcome = await editClientServers(
      'gemini-cli',
      { set: { [ENTRY_NAME]: { httpUrl: 'http://127.0.0.1:3590/mcp' } }, remove: ['a', 'b'] },
      { environment, now: () => new Date('2026-01-02T03:04:05.678Z') },
    );
    expect(outcome).toEqual({
      configPath: settings(),
      changed: true,
      backupPath: `${settings()}.2026-01-02T03-04-05-678Z.bak`,
    });
    expect(JSON.parse(await readFile(settings(), 'utf8'))).toEqual({
      mcpServers: { [ENTRY_NAME]: { httpUrl: 'http://127.0.0.1:3590/mcp' } },
    });
    expect(await readFile(outcome.backupPath!, 'utf8')).toBe(original);
    expect((await readdir(join(home, '.gemini'))).sort()).toEqual([
      'settings.json',
      'settings.json.2026-01-02T03-04-05-678Z.bak',
    ]);
  });

  // Configs often hold API keys in `env`: neither our write nor the backup may widen who can read them.
  it.skipIf(process.platform === 'win32')('keeps the file’s permissions, on the file and on its backup', async () => {
    await writeFile(settings(), '{"mcpServers": {"a": {"env": {"KEY": "secret"}}}}');
    await chmod(settings(), 0o600);
    const outcome = await editClientServers('gemini-cli', { set: { x: 1 } }, { environment });
    expect((await stat(settings())).mode & 0o777).toBe(0o600);
    expect((await stat(outcome.backupPath!)).mode & 0o777).toBe(0o600);
  });
});

describe('fallbackPortWarning', () => {
  it('warns when the gateway listens on another port than the configured one, saying what to do', () => {
    expect(fallbackPortWarning(3591, 3590)).toMatch(/port 3591 because port 3590 was busy.*Set gateway\.port/);
  });

  it('is silent on the configured port, and when any port was asked for (0)', () => {
    expect(fallbackPortWarning(3590, 3590)).toBeUndefined();
    expect(fallbackPortWarning(41234, 0)).toBeUndefined();
  });
});
