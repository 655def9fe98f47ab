import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { GatewayError } from '../shared/errors.js';
import { processAlive } from '../shared/processes.js';
import { fileSystemError } from '../store/fs-errors.js';

/**
 * A short-lived lock beside a file (`<file>.lock`) that serializes edits of it across processes: a
 * CLI command changing the config while another one does, or while the gateway does. The lock is
 * a file created with `O_CREAT | O_EXCL` ('wx'), which exactly one creator wins on every local file
 * system, holding `{ pid, time, nonce }`. Edits hold it for milliseconds (read, store secrets,
 * write), so a lock whose process is gone, or that is much older than any edit, is stale: it is
 * renamed aside before being removed, so of two processes that both find it stale only the one
 * whose rename moved it takes over (the other's rename fails, or moves the winner's fresh lock,
 * which it notices by the nonce and puts back).
 */

/** A lock older than this is stale even if its pid lives (a reused pid, a hung process). */
export const LOCK_STALE_MS = 30_000;
/** How long an edit waits for another process's lock before giving up with `conflict`. */
export const LOCK_WAIT_MS = 15_000;

export interface FileLockOptions {
  staleMs?: number;
  waitMs?: number;
  /** Clock for the lock's time and the stale check (tests freeze or move it). */
  now?: () => number;
  /** Whether a process exists; `process.kill(pid, 0)` by default. */
  isAlive?: (pid: number) => boolean;
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock if it is still ours (a holder that took too long may have lost it as stale). */
  release(): Promise<void>;
}

interface Holder {
  /** The lock file's text exactly as read: a takeover compares it to tell this lock from a newer one. */
  text: string;
  pid: number | undefined;
  time: number;
}

export const lockPathOf = (path: string) => `${path}.lock`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` holding the lock of `path`, released whatever the task does. */
export async function withFileLock<T>(path: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(path, options);
  try {
    return await task();
  } finally {
    await lock.release();
  }
}

/** Takes the lock of `path`, waiting for another holder up to `waitMs`, then `conflict`. */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  const lockPath = lockPathOf(path);
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const isAlive = options.isAlive ?? processAlive;
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  let delay = 5;
  for (;;) {
    const text = JSON.stringify({ pid: process.pid, time: now(), nonce: randomBytes(8).toString('hex') });
    if (await tryCreate(lockPath, text)) {
      return {
        path: lockPath,
        release: async () => {
          if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === text)
            await unlink(lockPath).catch(() => {});
        },
      };
    }
    const holder = await readHolder(lockPath);
    // Released between our attempt and the read: try again at once.
    if (!holder) continue;
    const stale = (holder.pid !== undefined && !isAlive(holder.pid)) || now() - holder.time > staleMs;
    if (stale) {
      await takeOver(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder.pid !== undefined ? `process ${holder.pid}` : 'another process';
      throw new GatewayError(
        'conflict',
        `${path} is being changed by ${who} (lock ${lockPath}); try again in a moment. If no cortex-gateway command is running, delete the lock file`,
        { field: path },
      );
    }
    // Jitter keeps two waiters from retrying in lockstep.
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
}

async function tryCreate(lockPath: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT') {
      throw new GatewayError(
        'config_not_found',
        `${lockPath}: cannot create the lock file: its folder does not exist`,
        {
          cause: error,
        },
      );
    }
    throw fileSystemError(error, lockPath);
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return true;
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    try {
      const record = JSON.parse(text) as { pid?: unknown; time?: unknown };
      if (typeof record.pid === 'number' && typeof record.time === 'number') {
        return { text, pid: record.pid, time: record.time };
      }
    } catch {
      // Empty or cut short: its creator is between open and write, or died there. Judged by age alone.
    }
    return { text, pid: undefined, time: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileSystemError(error, lockPath, 'read');
  }
}

/** Removes a stale lock so that exactly one of the processes that judged it stale gets to replace it. */
async function takeOver(lockPath: string, stale: Holder): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    // Someone else moved it first (or its holder released it): nothing to take over.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fileSystemError(error, lockPath);
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== stale.text) {
    // Not the lock judged stale: another process took over first and this is its fresh lock. Put it
    // back; link() fails rather than replace a lock created meanwhile.
    await link(aside, lockPath).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}
