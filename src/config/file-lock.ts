import { randomBytes } from 'node:crypto';
import { GatewayError } from '../shared/errors.js';
import { processRunning } from '../shared/processes.js';
import { fileSystemError } from '../store/fs-errors.js';
import { createLockFile, type LockFile } from '../store/lock-file.js';

/**
 * A short-lived lock beside a file (`<file>.lock`) that serializes edits of it across processes: a
 * CLI command changing the config while another one does, or while the gateway does. The lock is
 * an exclusive lock file (store/lock-file.ts) holding `{ pid, time, nonce }`. Edits hold it for
 * milliseconds (read, store secrets, write), so a lock whose process is gone, or that is much older
 * than any edit, is stale, and exactly one of the processes that find it stale takes it over.
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
  /** Whether a process runs; by default the OS's answer, a zombie counting as gone. */
  isAlive?: (pid: number) => boolean | Promise<boolean>;
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock if it is still ours (a holder that took too long may have lost it as stale). */
  release(): Promise<void>;
}

/** The lock file's content. */
interface Holder {
  pid: number;
  time: number;
}

export const lockPathOf = (path: string) => `${path}.lock`;

function parseHolder(text: string): Holder | undefined {
  try {
    const record = JSON.parse(text) as { pid?: unknown; time?: unknown } | null;
    if (typeof record?.pid === 'number' && typeof record.time === 'number')
      return { pid: record.pid, time: record.time };
  } catch {
    // Empty or cut short: its creator is between open and write, or died there.
  }
  return undefined;
}

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
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  const file = editLockFile(path, options);
  const record = () => JSON.stringify({ pid: process.pid, time: now(), nonce: randomBytes(8).toString('hex') });
  let delay = 5;
  const { text } = await file.acquire({
    record,
    async wait(seen) {
      if (Date.now() >= deadline) {
        const who = seen.record ? `process ${seen.record.pid}` : 'another process';
        throw new GatewayError(
          'conflict',
          `${path} is being changed by ${who} (lock ${lockPath}); try again in a moment. If no cortex-gateway command is running, delete the lock file`,
          { field: path },
        );
      }
      // Jitter keeps two waiters from retrying in lockstep.
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    },
  });
  return {
    path: lockPath,
    release: () => file.release((seen) => seen.text === text, record()),
  };
}

/**
 * The lock file of `path`. Stale when its pid is gone, or when it is older than `staleMs`; a file
 * that cannot be parsed (its creator died between open and write) is judged by its age alone. A
 * takeover claim holds its claimer's record, made when it claims, and is judged the same way.
 */
function editLockFile(path: string, options: FileLockOptions): LockFile<Holder> {
  const lockPath = lockPathOf(path);
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const isAlive = options.isAlive ?? ((pid: number) => processRunning(pid));
  return createLockFile({
    path: lockPath,
    parse: parseHolder,
    async judge(seen) {
      if (seen.record && !(await isAlive(seen.record.pid))) {
        return { stale: true, reason: `process ${seen.record.pid} is not running` };
      }
      const age = now() - (seen.record?.time ?? seen.mtimeMs);
      return age > staleMs ? { stale: true, reason: `held for ${age} ms` } : { stale: false };
    },
    fail(error, file, action) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && action === 'write') {
        return new GatewayError('config_not_found', `${file}: cannot create the lock file: its folder does not exist`, {
          cause: error,
        });
      }
      return fileSystemError(error, file, action);
    },
  });
}
