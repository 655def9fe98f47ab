import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GatewayError } from '../shared/errors.js';

/**
 * An exclusive lock file with stale takeover, the primitive under both the gateway's lock on its data
 * folder (instance-lock.ts) and the short lock around a config edit (config/file-lock.ts). Each of
 * them brings its own record, its rule for when a holder is stale, and what to do while a live
 * holder keeps the lock; this module makes sure that taking over a stale lock never lets two
 * acquirers in.
 *
 * - Taking: the file is created with `O_CREAT | O_EXCL` ('wx'), which exactly one creator wins on
 *   every local file system, and holds the holder's record.
 * - Taking over: an unlink is not conditional, so two acquirers that judged the same file stale could
 *   both remove "it", the second removing the lock the first had just created (and renaming the file
 *   aside first only moves that gap). So removing needs a claim, a file named after the stale lock
 *   (inode and content) and created exclusively: only its creator re-reads the lock and unlinks it if
 *   it is still that same file, which nobody else can do while the claim is there. A claim holds its
 *   creator's record and is judged by the same rule as the lock: one whose creator is gone (killed in
 *   that instant) is passed over for the next numbered one.
 * - Releasing: only a lock that is still ours, through a claim as well, so a holder that was judged
 *   stale (too slow) cannot remove the lock of the acquirer that took over from it.
 */

/** A lock file (or a claim) as read: content and inode read through one handle, so both describe the same file. */
export interface SeenLockFile<R> {
  text: string;
  ino: number;
  mtimeMs: number;
  /** The parsed record; undefined while its creator is between open() and write(), or if it died there. */
  record: R | undefined;
}

export type Staleness = { stale: false } | { stale: true; reason: string };

export interface LockFileOptions<R> {
  path: string;
  parse(text: string): R | undefined;
  /** Whether the holder of a lock file, or the creator of a claim, is gone. */
  judge(seen: SeenLockFile<R>): Promise<Staleness>;
  /** The error to throw for a file system failure on `path` (the lock or one of its claims). */
  fail(error: unknown, path: string, action: 'read' | 'write'): unknown;
  /** fsync a new lock file before it counts as taken. */
  durable?: boolean;
}

export interface AcquireLockFileOptions<R> {
  /** The holder record to write, made for each attempt (and each claim), so its time is the taking's. */
  record(): string;
  /**
   * Called when the lock cannot be taken yet: a holder judged live keeps it (`stale: false`), or
   * another acquirer is taking the stale one over right now. Throw to give up, return (after a
   * pause) to try again.
   */
  wait(seen: SeenLockFile<R>, staleness: Staleness): Promise<void>;
}

export interface TakenLockFile<R> {
  /** The text written, exactly. */
  text: string;
  /** The stale lock this acquirer removed on its way, and why it was stale. */
  replaced: { seen: SeenLockFile<R>; reason: string } | undefined;
}

export interface LockFile<R> {
  readonly path: string;
  read(): Promise<SeenLockFile<R> | undefined>;
  acquire(options: AcquireLockFileOptions<R>): Promise<TakenLockFile<R>>;
  /** Removes the lock if `isOurs` says it still is; `claim` is the record a release claim holds. */
  release(isOurs: (seen: SeenLockFile<R>) => boolean, claim: string): Promise<void>;
  /** As release, for process exit paths that cannot wait (without a claim: no time for one). */
  releaseSync(isOurs: (text: string) => boolean): void;
}

const MAX_CLAIMS = 100;

export function createLockFile<R>(options: LockFileOptions<R>): LockFile<R> {
  const { path, parse, judge, fail } = options;

  async function read(file = path): Promise<SeenLockFile<R> | undefined> {
    try {
      const handle = await open(file, 'r');
      try {
        const info = await handle.stat();
        const text = await handle.readFile('utf8');
        return { text, ino: info.ino, mtimeMs: info.mtimeMs, record: parse(text) };
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fail(error, file, 'read');
    }
  }

  /** Exclusive create: true when this call made the file, false when one was already there. */
  async function create(file: string, text: string): Promise<boolean> {
    let handle;
    try {
      handle = await open(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fail(error, file, 'write');
    }
    try {
      await handle.writeFile(text);
      if (options.durable) await handle.sync();
    } catch (error) {
      // An empty lock left behind would hold everyone off until it is judged stale.
      await handle.close().catch(() => {});
      await rm(file, { force: true });
      throw fail(error, file, 'write');
    }
    await handle.close();
    return true;
  }

  /**
   * Removes the lock `seen` if it is still there (see the module comment): 'removed' when this call
   * removed it, 'changed' when the lock is no longer that file, 'busy' when another process holds
   * the claim right now.
   */
  async function removeIfSame(seen: SeenLockFile<R>, claimer: () => string): Promise<'removed' | 'changed' | 'busy'> {
    const key = createHash('sha256').update(`${seen.ino}\n${seen.text}`).digest('hex').slice(0, 16);
    for (let n = 0; n < MAX_CLAIMS; n++) {
      const claim = `${path}.takeover-${key}.${n}`;
      if (await create(claim, claimer())) {
        try {
          const now = await read();
          if (!now || now.ino !== seen.ino || now.text !== seen.text) return 'changed';
          await rm(path, { force: true });
          return 'removed';
        } finally {
          await rm(claim, { force: true });
        }
      }
      const other = await read(claim);
      // Released a moment ago: let the caller look at the lock again.
      if (!other || !(await judge(other)).stale) return 'busy';
    }
    throw new GatewayError('conflict', `${path}: too many abandoned takeover files next to the lock file`, {
      field: path,
    });
  }

  /** Claims left by acquirers killed mid-takeover: moot once the lock is ours, removed for tidiness. */
  async function removeDeadClaims(): Promise<void> {
    const dir = dirname(path);
    const prefix = `${basename(path)}.takeover-`;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(prefix)) continue;
      const claim = await read(join(dir, name)).catch(() => undefined);
      if (claim && !(await judge(claim)).stale) continue;
      await rm(join(dir, name), { force: true });
    }
  }

  return {
    path,
    read: () => read(),
    async acquire({ record, wait }) {
      let replaced: TakenLockFile<R>['replaced'];
      for (;;) {
        const text = record();
        if (await create(path, text)) {
          await removeDeadClaims();
          return { text, replaced };
        }
        const seen = await read();
        // Released between our attempt and the read: try again at once.
        if (!seen) continue;
        const staleness = await judge(seen);
        if (staleness.stale) {
          const outcome = await removeIfSame(seen, record);
          if (outcome === 'removed') replaced = { seen, reason: staleness.reason };
          if (outcome !== 'busy') continue;
        }
        await wait(seen, staleness);
      }
    },
    async release(isOurs, claim) {
      const seen = await read().catch(() => undefined);
      // 'busy': another process judged it stale and is removing it; either way it is no longer ours.
      if (seen && isOurs(seen)) await removeIfSame(seen, () => claim).catch(() => {});
    },
    releaseSync(isOurs) {
      try {
        if (isOurs(readFileSync(path, 'utf8'))) unlinkSync(path);
      } catch {
        // Gone already, or unreadable: either way not ours to remove.
      }
    },
  };
}
