import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DISK_KINDS, testDisk } from '../../test/helpers/disk.js';
import { openSettingsStore } from './settings.js';

const schema = z.object({ startAtLogin: z.boolean().default(false), level: z.enum(['info', 'debug']).default('info') });

describe('settings store', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-settings-'));
    path = join(dir, 'settings.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from the defaults without writing a file', async () => {
    const store = await openSettingsStore({ path, schema });
    expect(store.get()).toEqual({ startAtLogin: false, level: 'info' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a change across openings', async () => {
    await (await openSettingsStore({ path, schema })).update({ startAtLogin: true });
    expect((await openSettingsStore({ path, schema })).get()).toEqual({ startAtLogin: true, level: 'info' });
  });

  it.skipIf(process.platform === 'win32')('writes the file private to the user (0600)', async () => {
    await (await openSettingsStore({ path, schema })).update({ level: 'debug' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a bad change naming the field, and leaves the file as it was', async () => {
    const store = await openSettingsStore({ path, schema });
    await store.update({ startAtLogin: true });
    const before = await readFile(path, 'utf8');
    await expect(store.update({ level: 'loud' as 'info' })).rejects.toThrow(/^level: /);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(store.get().level).toBe('info');
  });

  it('sets an invalid file aside, keeps it, and starts from the defaults', async () => {
    await writeFile(path, '{ "startAtLogin": "yes" }');
    const notes: string[] = [];
    const store = await openSettingsStore({ path, schema, onSetAside: (m) => notes.push(m) });
    expect(store.get().startAtLogin).toBe(false);
    expect(notes[0]).toMatch(/settings\.json: startAtLogin: .*kept as .*settings\.json\.invalid-\d+/);
    const aside = (await readdir(dir)).find((f) => f.startsWith('settings.json.invalid-'))!;
    expect(await readFile(join(dir, aside), 'utf8')).toBe('{ "startAtLogin": "yes" }');
  });

  it.each(DISK_KINDS)(
    'keeps the settings as they were when the disk is full (%s), and writes the next change once there is space',
    async (kind) => {
      await using disk = await testDisk(kind);
      const file = join(disk.dir, 'settings.json');
      const store = await openSettingsStore({ path: file, schema, writeFile: disk.writeFile });
      await store.update({ level: 'debug' });
      await disk.fill();
      await expect(store.update({ startAtLogin: true })).rejects.toMatchObject({ code: 'disk_full', field: file });
      expect(store.get()).toEqual({ startAtLogin: false, level: 'debug' });
      expect(await disk.temps()).toEqual([]);
      await disk.free();
      await store.update({ startAtLogin: true });
      expect((await openSettingsStore({ path: file, schema })).get()).toEqual({ startAtLogin: true, level: 'debug' });
    },
  );
});
