import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic, type WriteFileAtomic } from '../../src/store/atomic.js';

const run = promisify(execFile);

/**
 * Root on Linux can mount a small tmpfs and fill it: writes then fail with the kernel's own ENOSPC.
 * CI runs as root, so the real path runs there; elsewhere the seam below stands in.
 */
export const CAN_MOUNT = process.platform === 'linux' && process.getuid?.() === 0;

/** How the disk is made full: a real tmpfs, or the write seam the stores take. */
export type DiskKind = 'tmpfs' | 'seam';

/** Every kind this machine can run: the seam always, tmpfs as root. */
export const DISK_KINDS: readonly DiskKind[] = CAN_MOUNT ? ['tmpfs', 'seam'] : ['seam'];

export interface TestDisk extends AsyncDisposable {
  kind: DiskKind;
  /** A folder on the disk (the tmpfs mount point, or a temp folder). */
  dir: string;
  /**
   * What stores must write with: writeFileAtomic, whose temp files fail to take their content
   * while the seam disk is "full". A tmpfs needs no seam: this is writeFileAtomic itself.
   */
  writeFile: WriteFileAtomic;
  /** From now on writes fail with ENOSPC. */
  fill(): Promise<void>;
  /** Space again. */
  free(): Promise<void>;
  /** Names in `dir` that are temp files of writeFileAtomic (`<file>.<pid>.<hex>.tmp`). */
  temps(): Promise<string[]>;
}

/** An ENOSPC error as Node's file system calls produce it. */
export function enospc(syscall = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), {
    errno: -28,
    code: 'ENOSPC',
    syscall,
  });
}

/** Opens real files whose handles take no content, failing as a full disk does. */
const fullOpen: typeof open = (async (...args: Parameters<typeof open>) => {
  const handle = await open(...args);
  return Object.assign(handle, {
    writeFile: () => Promise.reject(enospc('write')),
    write: () => Promise.reject(enospc('write')),
  });
}) as typeof open;

async function tempsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /\.\d+\.[0-9a-f]{8}\.tmp$/.test(name));
}

/** A disk that can be filled and freed; `kind` picks how. Dispose to unmount and remove it. */
export async function testDisk(kind: DiskKind, sizeKb = 1024): Promise<TestDisk> {
  const dir = await mkdtemp(join(tmpdir(), `cortex-disk-${kind}-`));
  if (kind === 'seam') {
    let full = false;
    return {
      kind,
      dir,
      writeFile: (path, data, mode, options) =>
        writeFileAtomic(path, data, mode, { ...options, ...(full ? { open: fullOpen } : {}) }),
      fill: async () => void (full = true),
      free: async () => void (full = false),
      temps: () => tempsIn(dir),
      async [Symbol.asyncDispose]() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    kind,
    dir,
    writeFile: writeFileAtomic,
    async fill() {
      const handle = await open(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) await handle.write(chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await handle.close();
      }
    },
    free: () => rm(filler, { force: true }),
    temps: () => tempsIn(dir),
    async [Symbol.asyncDispose]() {
      await run('umount', ['-l', dir]).catch(() => {});
      await rmdir(dir).catch(() => {});
    },
  };
}
