import { randomBytes } from 'node:crypto';
import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { processAlive } from '../shared/processes.js';
import { fileSystemError } from './fs-errors.js';

export interface AtomicWriteOptions {
  /** `false` for ephemeral files (runtime info, ready file): no fsync, they are rewritten on every start. */
  durable?: boolean;
  /**
   * Create the file only if there is none: the whole file appears at once (temp, fsync, link), and
   * an existing one is never replaced. Fails with the plain `EEXIST` error when another process
   * created it first, so the caller can read theirs.
   */
  exclusive?: boolean;
  /** Opens the temp file. Tests pass one whose handle fails as a full disk does. */
  open?: typeof open;
}

/** writeFileAtomic's shape, for stores that take the writer as an option (tests make it fail like a full disk). */
export type WriteFileAtomic = (
  path: string,
  data: string | Uint8Array,
  mode?: number,
  options?: AtomicWriteOptions,
) => Promise<void>;

/** `<file>.<pid>.<8 hex>.tmp`: the pid tells a later start whether the writer is still alive. */
const TEMP_NAME = /^(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

const tempPathFor = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

/**
 * Writes through a temp file in the same directory, fsyncs it, then renames over the target, so a
 * crash leaves either the old file or the new one, never half of each. Any failure (open, write,
 * fsync, rename) removes the temp file and leaves the target as it was; a full disk or a refused
 * write becomes a GatewayError (`disk_full`, `permission_denied`) naming `path`.
 */
export const writeFileAtomic: WriteFileAtomic = async (path, data, mode = 0o600, options = {}) => {
  const temp = tempPathFor(path);
  const durable = options.durable !== false;
  let created = false;
  let linking = false;
  try {
    const handle = await (options.open ?? open)(temp, 'wx', mode);
    created = true;
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      linking = true;
      // link(2) fails with EEXIST instead of replacing: of two processes creating the file, one wins.
      await link(temp, path);
      linking = false;
      // The content is in place under its name; a temp left by a failed unlink goes at the next start.
      await rm(temp, { force: true }).catch(() => {});
    } else {
      await rename(temp, path);
    }
    created = false;
  } catch (error) {
    if (created) await rm(temp, { force: true }).catch(() => {});
    if (linking && (error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    throw fileSystemError(error, path);
  }
  if (durable) await syncDirectory(dirname(path));
};

/**
 * The new name is durable once the directory entry is: fsync the folder too (POSIX; Windows cannot
 * open a folder for this). Best effort: the file is already in place, so a failure here must not
 * report the write as failed and leave memory and disk disagreeing.
 */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename has happened either way.
  }
}

/**
 * Removes temp files that writeFileAtomic left in `dir` when its process was killed mid-write
 * (kill -9, power loss): those named `<file>.<pid>.<hex>.tmp` whose pid no longer runs. A live
 * pid's temp is kept: that process (a CLI command next to the app) may be writing it right now.
 * `only` limits the sweep to one file's temps (the config file may sit in a folder that is not
 * ours). Best effort; returns the paths removed.
 */
export async function removeStaleTempFiles(
  dir: string,
  options: { only?: string; isAlive?: (pid: number) => boolean } = {},
): Promise<string[]> {
  const alive = options.isAlive ?? processAlive;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const match = TEMP_NAME.exec(entry.name);
    if (!match || !entry.isFile()) continue;
    if (options.only !== undefined && match[1] !== options.only) continue;
    const pid = Number(match[2]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || alive(pid)) continue;
    const path = join(dir, entry.name);
    try {
      await rm(path);
      removed.push(path);
    } catch {
      // Removed meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}
