import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAN_MOUNT, DISK_KINDS, testDisk } from '../../test/helpers/disk.js';
import { exitedPid } from '../../test/helpers/processes.js';
import { isGatewayError, type GatewayError } from '../shared/errors.js';
import { removeStaleTempFiles, writeFileAtomic } from './atomic.js';

const TEMP = /\.\d+\.[0-9a-f]{8}\.tmp$/;

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-atomic-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the file whole and leaves no temp file', async () => {
    const path = join(dir, 'state.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('removes its temp file when the rename fails, and keeps what was there', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readdir(path)).toEqual(['inside']);
  });

  describe.each(DISK_KINDS)('on a full disk (%s)', (kind) => {
    it('fails with disk_full naming the file, removes its temp, keeps the old content', async () => {
      await using disk = await testDisk(kind);
      const path = join(disk.dir, 'oauth.json');
      await disk.writeFile(path, 'before');
      await disk.fill();
      const error = await disk.writeFile(path, 'after'.repeat(1000)).catch((e: unknown) => e);
      expect(isGatewayError(error, 'disk_full')).toBe(true);
      expect((error as GatewayError).field).toBe(path);
      expect((error as GatewayError).message).toContain(path);
      expect(((error as GatewayError).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(await disk.temps()).toEqual([]);
      expect(await readFile(path, 'utf8')).toBe('before');
      await disk.free();
      await disk.writeFile(path, 'after');
      expect(await readFile(path, 'utf8')).toBe('after');
    });

    it('creates nothing in exclusive mode, and creates the file once there is space', async () => {
      await using disk = await testDisk(kind);
      const path = join(disk.dir, 'secrets.key');
      await disk.fill();
      await expect(disk.writeFile(path, 'key', 0o600, { exclusive: true })).rejects.toMatchObject({
        code: 'disk_full',
      });
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await disk.temps()).toEqual([]);
      await disk.free();
      await disk.writeFile(path, 'key', 0o600, { exclusive: true });
      expect(await readFile(path, 'utf8')).toBe('key');
      expect(await disk.temps()).toEqual([]);
    });
  });

  it('fails with the plain EEXIST in exclusive mode when the file exists, and keeps it', async () => {
    const path = join(dir, 'secrets.key');
    await writeFile(path, 'theirs');
    await expect(writeFileAtomic(path, 'mine', 0o600, { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('theirs');
    expect(await readdir(dir)).toEqual(['secrets.key']);
  });

  it.skipIf(!CAN_MOUNT)('fails with permission_denied on a read-only disk (EROFS), naming the file', async () => {
    const mount = await mkdtemp(join(tmpdir(), 'cortex-ro-'));
    await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', mount]);
    try {
      const path = join(mount, 'oauth.json');
      const error = await writeFileAtomic(path, 'x').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'permission_denied', field: path });
      expect((error as Error).message).toMatch(/^Permission denied: could not write .*oauth\.json \(EROFS\)/);
    } finally {
      await promisify(execFile)('umount', [mount]);
      await rm(mount, { recursive: true });
    }
  });

  it.skipIf(CAN_MOUNT || process.platform === 'win32')(
    'fails with permission_denied in a folder it may not write (EACCES), naming the file',
    async () => {
      await chmod(dir, 0o500);
      const path = join(dir, 'oauth.json');
      await expect(writeFileAtomic(path, 'x')).rejects.toMatchObject({ code: 'permission_denied', field: path });
    },
  );
});

describe('removeStaleTempFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-stale-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("removes temp files of dead processes and keeps a live process's", async () => {
    const dead = await exitedPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const names = {
        dead: `oauth.json.${dead}.0a1b2c3d.tmp`,
        mine: `secrets.enc.json.${process.pid}.0a1b2c3d.tmp`,
        other: `cortex.config.json.${live.pid}.deadbeef.tmp`,
        unrelated: 'notes.1234.txt',
        notOurs: `backup.${dead}.tmp`,
      };
      for (const name of Object.values(names)) await writeFile(join(dir, name), 'x');
      const removed = await removeStaleTempFiles(dir);
      expect(removed).toEqual([join(dir, names.dead)]);
      expect((await readdir(dir)).sort()).toEqual([names.mine, names.other, names.unrelated, names.notOurs].sort());
    } finally {
      live.kill();
    }
  });

  it("limits the sweep to one file's temps when asked (a config file in someone else's folder)", async () => {
    const dead = await exitedPid();
    const config = join(dir, 'cortex.config.json');
    await writeFile(`${config}.${dead}.0a1b2c3d.tmp`, 'x');
    await writeFile(join(dir, `other.json.${dead}.0a1b2c3d.tmp`), 'x');
    expect(await removeStaleTempFiles(dir, { only: basename(config) })).toEqual([`${config}.${dead}.0a1b2c3d.tmp`]);
    expect((await readdir(dir)).filter((n) => TEMP.test(n))).toEqual([`other.json.${dead}.0a1b2c3d.tmp`]);
  });

  it('is a no-op for a folder that does not exist', async () => {
    expect(await removeStaleTempFiles(join(dir, 'missing'))).toEqual([]);
  });
});
