import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, type DesktopSettings } from '../../../src/api/contract.js';
import { silentLogger } from '../../../src/index.js';
import { createIpcHandlers, isTrustedSender } from './ipc-handlers.js';
import { openDesktopSettings, SETTINGS_FILE_NAME } from '../settings/settings-store.js';

describe('IPC handlers', () => {
  let dir: string;
  let applied: Array<[DesktopSettings, DesktopSettings]>;
  let logsOpened: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-ipc-'));
    applied = [];
    logsOpened = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const handlers = async () =>
    createIpcHandlers({
      settings: openDesktopSettings({ dir }),
      applySettings: async (next, previous) => void applied.push([next, previous]),
      platform: () => ({ platform: 'linux', version: '0.1.0', dataDir: dir, logsDir: join(dir, 'logs') }),
      openLogs: async () => void logsOpened++,
      logger: silentLogger,
    });

  it('saves a valid change, applies it, and answers every setting', async () => {
    const h = await handlers();
    const result = await h[IPC_CHANNELS.setSettings]({ startAtLogin: true });
    expect(result).toEqual({ ok: true, value: { startAtLogin: true, openConsoleAtLaunch: true, logLevel: 'info' } });
    expect(applied[0]![1].startAtLogin).toBe(false);
    expect(JSON.parse(await readFile(join(dir, SETTINGS_FILE_NAME), 'utf8')).startAtLogin).toBe(true);
  });

  it('refuses a wrongly typed value naming the field, and saves nothing', async () => {
    const h = await handlers();
    const result = await h[IPC_CHANNELS.setSettings]({ startAtLogin: 'yes' });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: /^startAtLogin: / } });
    expect(applied).toEqual([]);
  });

  it('refuses keys that are not settings', async () => {
    const result = await (await handlers())[IPC_CHANNELS.setSettings]({ dataDir: '/etc' });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('refuses a non-object change', async () => {
    const result = await (await handlers())[IPC_CHANNELS.setSettings]('startAtLogin');
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: /^settings: / } });
  });

  it('refuses arguments to calls that take none', async () => {
    const h = await handlers();
    expect(await h[IPC_CHANNELS.openLogs]({ path: '/etc' })).toMatchObject({ ok: false });
    expect(logsOpened).toBe(0);
    expect(await h[IPC_CHANNELS.openLogs](undefined)).toEqual({ ok: true, value: null });
    expect(logsOpened).toBe(1);
  });

  it('turns a failure into a result instead of a thrown error', async () => {
    const h = createIpcHandlers({
      settings: openDesktopSettings({ dir }),
      applySettings: async () => {},
      platform: () => {
        throw new Error('boom');
      },
      openLogs: async () => {},
      logger: silentLogger,
    });
    expect(await h[IPC_CHANNELS.platform](undefined)).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom' },
    });
  });
});

describe('isTrustedSender', () => {
  it('accepts the console page of this gateway', () => {
    expect(isTrustedSender('http://127.0.0.1:3590/app/#/settings', 'http://127.0.0.1:3590')).toBe(true);
  });

  it('refuses another origin, another path, or no gateway yet', () => {
    expect(isTrustedSender('https://evil.example/app/', 'http://127.0.0.1:3590')).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:3590/consent', 'http://127.0.0.1:3590')).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:3590/app/', undefined)).toBe(false);
  });
});
