import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock, lockPathOf, withFileLock, type FileLock } from './file-lock.js';

describe('file lock', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-lock-'));
    path = join(dir, 'cortex.config.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Only this process lives: any other pid in a lock file is a dead holder. */
  const onlyUsAlive = (pid: number) => pid === process.pid;

  it('holds <file>.lock, private, with our pid while held, and removes it on release', async () => {
    const lock = await acquireFileLock(path);
    expect(lock.path).toBe(`${path}.lock`);
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ pid: process.pid });
    if (process.platform !== 'win32') expect((await stat(lock.path)).mode & 0o777).toBe(0o600);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('makes a second holder wait until the first releases', async () => {
    const events: string[] = [];
    const first = await acquireFileLock(path);
    const second = withFileLock(path, async () => void events.push('second holds'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    events.push('first releases');
    await first.release();
    await second;
    expect(events).toEqual(['first releases', 'second holds']);
  });

  it('never lets two tasks hold it at once', async () => {
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withFileLock(path, async () => {
          most = Math.max(most, ++holding);
          await new Promise((resolve) => setTimeout(resolve, 2));
          holding--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('takes over a lock whose process is gone', async () => {
    await writeFile(lockPathOf(path), JSON.stringify({ pid: 999_999, time: Date.now(), nonce: 'dead' }));
    const lock = await acquireFileLock(path, { isAlive: onlyUsAlive, waitMs: 1000 });
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock older than the bound even if its pid lives (a reused pid)', async () => {
    let now = 1_000_000;
    await writeFile(lockPathOf(path), JSON.stringify({ pid: process.pid, time: now, nonce: 'old' }));
    now += 31_000;
    const lock = await acquireFileLock(path, { now: () => now, staleMs: 30_000, waitMs: 1000 });
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ time: now });
    await lock.release();
  });

  it('judges a lock file left empty (its creator died before writing) by its age alone', async () => {
    await writeFile(lockPathOf(path), '');
    await expect(acquireFileLock(path, { waitMs: 100 })).rejects.toMatchObject({ code: 'conflict' });
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPathOf(path), old, old);
    const lock = await acquireFileLock(path, { waitMs: 1000 });
    await lock.release();
  });

  it('lets exactly one of several racers take over the same stale lock at a time', async () => {
    await writeFile(lockPathOf(path), JSON.stringify({ pid: 999_999, time: Date.now(), nonce: 'dead' }));
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withFileLock(
          path,
          async () => {
            most = Math.max(most, ++holding);
            await new Promise((resolve) => setTimeout(resolve, 5));
            holding--;
          },
          { isAlive: onlyUsAlive },
        ),
      ),
    );
    expect(most).toBe(1);
    // Nothing left behind: no lock, no lock moved aside.
    expect(await readdir(dir)).toEqual([]);
  });

  it('lets exactly one of several acquirers take over the same stale lock; the others wait, then give up', async () => {
    await writeFile(lockPathOf(path), JSON.stringify({ pid: 999_999, time: Date.now(), nonce: 'dead' }));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireFileLock(path, { isAlive: onlyUsAlive, waitMs: 300 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect(r.reason).toMatchObject({ code: 'conflict' });
    // No takeover claim is left beside the lock, and releasing it leaves nothing at all.
    expect(await readdir(dir)).toEqual(['cortex.config.json.lock']);
    await (won[0] as PromiseFulfilledResult<FileLock>).value.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves alone the live lock another process put in place of the stale one it was judging', async () => {
    const fresh = JSON.stringify({ pid: process.pid, time: Date.now(), nonce: 'fresh' });
    await writeFile(lockPathOf(path), JSON.stringify({ pid: 999_999, time: Date.now(), nonce: 'dead' }));
    // While this acquirer judges the stale lock, another one takes over and writes its own live lock.
    const isAlive = async (pid: number) => {
      if (pid === 999_999) await writeFile(lockPathOf(path), fresh);
      return pid === process.pid;
    };
    await expect(acquireFileLock(path, { isAlive, waitMs: 100 })).rejects.toMatchObject({ code: 'conflict' });
    expect(await readFile(lockPathOf(path), 'utf8')).toBe(fresh);
    expect(await readdir(dir)).toEqual(['cortex.config.json.lock']);
  });

  it('passes over a takeover claim whose claimer died, and tidies it away', async () => {
    await writeFile(lockPathOf(path), JSON.stringify({ pid: 999_999, time: Date.now(), nonce: 'dead' }));
    // Named as lock-file.ts names the claim on this stale lock (its inode and content).
    const [text, info] = await Promise.all([readFile(lockPathOf(path), 'utf8'), stat(lockPathOf(path))]);
    const key = createHash('sha256').update(`${info.ino}\n${text}`).digest('hex').slice(0, 16);
    const claim = `${lockPathOf(path)}.takeover-${key}.0`;
    await writeFile(claim, JSON.stringify({ pid: 999_998, time: Date.now(), nonce: 'dead-claimer' }));
    const lock = await acquireFileLock(path, { isAlive: onlyUsAlive, waitMs: 1000 });
    expect(await readdir(dir)).toEqual(['cortex.config.json.lock']);
    await lock.release();
  });

  it("lets a holder that took too long lose the lock, and then leaves the new holder's lock alone", async () => {
    let now = 1_000_000;
    const slow = await acquireFileLock(path, { now: () => now, waitMs: 1000 });
    now += 31_000;
    const next = await acquireFileLock(path, { now: () => now, waitMs: 1000 });
    await slow.release();
    expect(JSON.parse(await readFile(lockPathOf(path), 'utf8'))).toMatchObject({ time: now });
    await next.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up with conflict, naming the file and the holder, when a live holder keeps it', async () => {
    const held = await acquireFileLock(path);
    try {
      await expect(acquireFileLock(path, { waitMs: 100 })).rejects.toMatchObject({
        code: 'conflict',
        field: path,
        message: expect.stringContaining(`process ${process.pid}`),
      });
    } finally {
      await held.release();
    }
  });

  it('does not remove a lock that is no longer its own on release', async () => {
    const lock = await acquireFileLock(path);
    const other = JSON.stringify({ pid: process.pid, time: Date.now(), nonce: 'someone-else' });
    await writeFile(lock.path, other);
    await lock.release();
    expect(await readFile(lock.path, 'utf8')).toBe(other);
  });
});
