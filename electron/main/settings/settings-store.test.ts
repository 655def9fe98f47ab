import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAN_MOUNT, testDisk } from '../../../test/helpers/disk.js';
import { openDesktopSettings, SETTINGS_FILE_NAME } from './settings-store.js';

const DEFAULTS = { startAtLogin: false, openConsoleAtLaunch: true, logLevel: 'info' };

describe('desktop settings store (conf)', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-settings-'));
    path = join(dir, SETTINGS_FILE_NAME);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from the defaults and writes them down', async () => {
    const store = openDesktopSettings({ dir });
    expect(store.get()).toEqual(DEFAULTS);
    expect(store.path).toBe(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(DEFAULTS);
  });

  it("keeps a user's settings saved by the earlier version of the app, in its format", async () => {
    // What the app's own store wrote before conf: 2-space JSON, a final newline, mode 0600.
    const saved = { startAtLogin: true, openConsoleAtLaunch: false, logLevel: 'debug' };
    await writeFile(path, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
    const store = openDesktopSettings({ dir });
    expect(store.get()).toEqual(saved);
    await store.update({ logLevel: 'warn' });
    expect(openDesktopSettings({ dir }).get()).toEqual({ ...saved, logLevel: 'warn' });
    expect(await readdir(dir)).toEqual([SETTINGS_FILE_NAME]);
  });

  it('fills in the defaults for settings an older file does not have', async () => {
    await writeFile(path, JSON.stringify({ startAtLogin: true }, null, 2) + '\n', { mode: 0o600 });
    expect(openDesktopSettings({ dir }).get()).toEqual({ ...DEFAULTS, startAtLogin: true });
  });

  it('keeps a change across openings', async () => {
    await openDesktopSettings({ dir }).update({ startAtLogin: true });
    expect(openDesktopSettings({ dir }).get()).toEqual({ ...DEFAULTS, startAtLogin: true });
  });

  it.skipIf(process.platform === 'win32')('writes the file private to the user (0600)', async () => {
    await openDesktopSettings({ dir }).update({ logLevel: 'debug' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a bad change naming the field, and leaves the file as it was', async () => {
    const store = openDesktopSettings({ dir });
    await store.update({ startAtLogin: true });
    const before = await readFile(path, 'utf8');
    await expect(store.update({ logLevel: 'loud' as 'info' })).rejects.toMatchObject({
      code: 'invalid_argument',
      field: 'logLevel',
    });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(store.get().logLevel).toBe('info');
  });

  it.each([
    ['a value of the wrong type', '{ "startAtLogin": "yes" }'],
    ['a setting it does not know', '{ "startAtLogin": true, "theme": "dark" }'],
    ['text that is not JSON', '{ "startAtLogin": tru'],
  ])('sets a file with %s aside, keeps it, and starts from the defaults', async (_what, text) => {
    await writeFile(path, text);
    const notes: string[] = [];
    const store = openDesktopSettings({ dir, onSetAside: (m) => notes.push(m), now: () => 1234 });
    expect(store.get()).toEqual(DEFAULTS);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.startsWith(`${path}: `)).toBe(true);
    expect(notes[0]!.endsWith(`; kept as ${path}.invalid-1234, using the defaults`)).toBe(true);
    expect(await readFile(`${path}.invalid-1234`, 'utf8')).toBe(text);
  });

  it('serializes concurrent changes: each one lands, none is lost', async () => {
    const store = openDesktopSettings({ dir });
    await Promise.all([store.update({ startAtLogin: true }), store.update({ logLevel: 'error' })]);
    expect(openDesktopSettings({ dir }).get()).toEqual({ ...DEFAULTS, startAtLogin: true, logLevel: 'error' });
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)(
    'says which file it may not write (permission_denied)',
    async () => {
      await chmod(dir, 0o500);
      try {
        expect(() => openDesktopSettings({ dir })).toThrow(
          expect.objectContaining({ code: 'permission_denied', field: path }),
        );
      } finally {
        await chmod(dir, 0o700);
      }
    },
  );

  // conf writes through `atomically` (no write seam to fail), so only a real full disk tests it.
  it.skipIf(!CAN_MOUNT)(
    'keeps the settings as they were when the disk is full, and writes the next change once there is space',
    async () => {
      await using disk = await testDisk('tmpfs');
      const store = openDesktopSettings({ dir: disk.dir });
      await store.update({ logLevel: 'debug' });
      const before = await readFile(store.path, 'utf8');
      await disk.fill();
      await expect(store.update({ startAtLogin: true })).rejects.toMatchObject({
        code: 'disk_full',
        field: store.path,
      });
      expect(store.get()).toEqual({ ...DEFAULTS, logLevel: 'debug' });
      expect(await readFile(store.path, 'utf8')).toBe(before);
      // atomically removed its temp file: only the settings and the filler remain.
      expect((await readdir(disk.dir)).sort()).toEqual([SETTINGS_FILE_NAME, 'filler']);
      await disk.free();
      await store.update({ startAtLogin: true });
      expect(openDesktopSettings({ dir: disk.dir }).get()).toEqual({
        ...DEFAULTS,
        logLevel: 'debug',
        startAtLogin: true,
      });
    },
  );
});
