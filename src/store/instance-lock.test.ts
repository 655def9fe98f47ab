import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitedPid } from '../../test/helpers/processes.js';
import { processStartTime, type ProcessInfo, type ProcessProbe } from '../shared/processes.js';
import {
  acquireInstanceLock,
  holderState,
  InstanceLockedError,
  instanceLockPath,
  type InstanceLockRecord,
} from './instance-lock.js';

/** A probe over a fixed table of pids; any other pid is gone. */
function fakeProbe(table: Record<number, string | undefined>, onInspect?: (pid: number) => void): ProcessProbe {
  return {
    inspect: async (pid): Promise<ProcessInfo> => {
      onInspect?.(pid);
      return pid in table ? { alive: true, startTime: table[pid] } : { alive: false };
    },
  };
}

describe('holderState', () => {
  it('is live when the pid runs with the recorded start time', async () => {
    expect(await holderState({ pid: 7, processStart: 't1' }, fakeProbe({ 7: 't1' }))).toEqual({ stale: false });
  });

  it('is stale when the pid is gone', async () => {
    expect(await holderState({ pid: 7, processStart: 't1' }, fakeProbe({}))).toEqual({
      stale: true,
      reason: 'process 7 is not running',
    });
  });

  it('is stale when the pid runs but started at another time (pid reuse)', async () => {
    const state = await holderState({ pid: 7, processStart: 't1' }, fakeProbe({ 7: 't2' }));
    expect(state).toMatchObject({ stale: true, reason: expect.stringContaining('another process') });
  });

  it('counts an alive pid as the holder when a start time is missing on either side (Windows)', async () => {
    expect(await holderState({ pid: 7 }, fakeProbe({ 7: 't2' }))).toEqual({ stale: false });
    expect(await holderState({ pid: 7, processStart: 't1' }, fakeProbe({ 7: undefined }))).toEqual({ stale: false });
  });
});

describe('acquireInstanceLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const record = (fields: Partial<InstanceLockRecord>): InstanceLockRecord => ({
    id: 'other',
    pid: 999_999,
    startedAt: '2026-12-01T10:00:00.000Z',
    app: 'cli',
    dataDir: dir,
    ...fields,
  });
  const writeLock = (value: InstanceLockRecord | string) =>
    writeFile(instanceLockPath(dir), typeof value === 'string' ? value : JSON.stringify(value));
  const readLock = async () => JSON.parse(await readFile(instanceLockPath(dir), 'utf8')) as InstanceLockRecord;

  it('writes gateway.lock (0600) with pid, process start time, app, data folder and start time', async () => {
    await using lock = await acquireInstanceLock(dir, { app: 'cli' });
    const onDisk = await readLock();
    expect(onDisk).toEqual(lock.record);
    expect(onDisk).toMatchObject({ pid: process.pid, app: 'cli', dataDir: dir });
    expect(onDisk.processStart).toBe(await processStartTime(process.pid));
    expect(Date.parse(onDisk.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    if (process.platform !== 'win32') expect((await stat(lock.path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a second acquirer while the first holds it, naming the holder, and leaves the file alone', async () => {
    await using first = await acquireInstanceLock(dir, { app: 'desktop' });
    await first.update({ port: 3590, mcpUrl: 'http://127.0.0.1:3590/mcp' });
    const before = await readFile(first.path, 'utf8');
    const error = await acquireInstanceLock(dir, { app: 'cli' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceLockedError);
    const refused = error as InstanceLockedError;
    expect(refused.code).toBe('already_running');
    expect(refused.field).toBe(first.path);
    expect(refused.holder).toEqual(first.record);
    expect(refused.message).toContain(`a gateway is already running for ${dir}`);
    expect(refused.message).toContain(`pid ${process.pid}`);
    expect(refused.message).toContain('http://127.0.0.1:3590/mcp');
    expect(refused.message).toContain('--data-dir');
    expect(await readFile(first.path, 'utf8')).toBe(before);
  });

  it('releases only its own file: a lock another process now holds stays', async () => {
    const lock = await acquireInstanceLock(dir, { app: 'cli' });
    await lock.release();
    await expect(stat(lock.path)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await acquireInstanceLock(dir, { app: 'cli' });
    await writeLock(record({ id: 'someone-else', pid: process.pid }));
    await again.release();
    again.releaseSync();
    expect((await readLock()).id).toBe('someone-else');
  });

  it('refuses update once the lock is no longer its own', async () => {
    const lock = await acquireInstanceLock(dir, { app: 'cli' });
    await writeLock(record({ id: 'someone-else', pid: process.pid }));
    await expect(lock.update({ port: 1, mcpUrl: 'http://127.0.0.1:1/mcp' })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect((await readLock()).id).toBe('someone-else');
  });

  it('releases synchronously on exit paths', async () => {
    const lock = await acquireInstanceLock(dir, { app: 'cli' });
    lock.releaseSync();
    await expect(stat(lock.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock whose process has exited, and says so', async () => {
    const pid = await exitedPid();
    await writeLock(record({ pid, processStart: 'whatever' }));
    await using lock = await acquireInstanceLock(dir, { app: 'cli' });
    expect(lock.replaced).toEqual({
      holder: expect.objectContaining({ pid }),
      reason: `process ${pid} is not running`,
    });
    expect((await readLock()).id).toBe(lock.record.id);
    // Nothing set aside is left behind.
    expect(await readdir(dir)).toEqual(['gateway.lock']);
  });

  it('takes over a lock whose pid is alive but started at another time (pid reuse)', async () => {
    await writeLock(record({ pid: process.pid, processStart: 'not-the-real-start-time' }));
    await using lock = await acquireInstanceLock(dir, { app: 'cli' });
    expect(lock.replaced?.reason).toContain('another process');
    expect(lock.record.pid).toBe(process.pid);
  });

  it('refuses a lock whose pid is alive with the recorded start time', async () => {
    await writeLock(record({ pid: process.pid, processStart: await processStartTime(process.pid) }));
    await expect(acquireInstanceLock(dir, { app: 'cli' })).rejects.toBeInstanceOf(InstanceLockedError);
    expect((await readLock()).id).toBe('other');
  });

  it('waits for a lock being written (empty for an instant) and then names its holder', async () => {
    await writeLock('');
    setTimeout(() => void writeLock(record({ pid: process.pid })), 100);
    const error = await acquireInstanceLock(dir, { app: 'cli', unreadableGraceMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceLockedError);
    expect((error as InstanceLockedError).holder.id).toBe('other');
  });

  it('takes over a lock left unreadable for longer than the grace period', async () => {
    await writeLock('{"pid": 12');
    await using lock = await acquireInstanceLock(dir, { app: 'cli', unreadableGraceMs: 100 });
    expect(lock.replaced?.reason).toContain('unreadable');
    expect((await readLock()).id).toBe(lock.record.id);
  });

  it('lets exactly one of many concurrent acquirers win on an empty folder', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireInstanceLock(dir, { app: 'cli' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireInstanceLock>>>).value;
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(InstanceLockedError);
      expect((r.reason as InstanceLockedError).holder.id).toBe(winner.record.id);
    }
    expect((await readLock()).id).toBe(winner.record.id);
  });

  it('lets exactly one of many concurrent acquirers take over the same stale lock', async () => {
    await writeLock(record({ pid: await exitedPid() }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireInstanceLock(dir, { app: 'cli' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireInstanceLock>>>).value;
    expect((await readLock()).id).toBe(winner.record.id);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(InstanceLockedError);
      expect((r.reason as InstanceLockedError).holder.id).toBe(winner.record.id);
    }
    expect(await readdir(dir)).toEqual(['gateway.lock']);
  });

  it('leaves alone the live lock another starter put in place of the stale one it was judging', async () => {
    const stale = record({ id: 'stale', pid: 111 });
    const fresh = record({ id: 'fresh', pid: 222, processStart: 's' });
    await writeLock(stale);
    // While this starter judges the stale lock, another one takes over and writes its own live lock.
    const probe = fakeProbe({ 222: 's' }, (pid) => {
      if (pid === 111) void writeLock(fresh);
    });
    const error = await acquireInstanceLock(dir, { app: 'cli', pid: 333, probe }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceLockedError);
    expect((error as InstanceLockedError).holder.id).toBe('fresh');
    expect((await readLock()).id).toBe('fresh');
    expect(await readdir(dir)).toEqual(['gateway.lock']);
  });

  /** The claim file a starter creates to remove the stale lock now in the folder (named after it). */
  async function claimPath(n: number): Promise<string> {
    const path = instanceLockPath(dir);
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const key = createHash('sha256').update(`${info.ino}\n${text}`).digest('hex').slice(0, 16);
    return `${path}.takeover-${key}.${n}`;
  }

  it('passes over a takeover claim left by a starter killed mid-takeover, and tidies it away', async () => {
    await writeLock(record({ pid: await exitedPid() }));
    await writeFile(await claimPath(0), JSON.stringify(record({ id: 'dead-claimer', pid: await exitedPid() })));
    await using lock = await acquireInstanceLock(dir, { app: 'cli' });
    expect(lock.replaced?.reason).toContain('is not running');
    expect(await readdir(dir)).toEqual(['gateway.lock']);
  });

  it('waits while a live starter holds the takeover claim', async () => {
    await writeLock(record({ pid: await exitedPid() }));
    const claim = await claimPath(0);
    await writeFile(claim, JSON.stringify(record({ id: 'live-claimer', pid: process.pid })));
    let settled = false;
    const acquiring = acquireInstanceLock(dir, { app: 'cli' }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
    await rm(claim);
    await using lock = await acquiring;
    expect((await readLock()).id).toBe(lock.record.id);
  });

  it('gives up with a conflict error, naming the lock file, when it cannot settle in time', async () => {
    await writeLock('');
    const error = await acquireInstanceLock(dir, { app: 'cli', unreadableGraceMs: 60_000, timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'conflict', field: instanceLockPath(dir) });
  });
});
