import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.js';
import { createChildRegistry, stopOrphans, type ChildRecord } from './child-registry.js';
import type { ProcessTable } from '../shared/processes.js';

/** A process table in memory: pids with start times; signals are recorded and SIGKILL/SIGTERM end a process. */
function fakeTable(alive: Record<number, string>, options: { ignoresTerm?: number[] } = {}) {
  const running = new Map(Object.entries(alive).map(([pid, start]) => [Number(pid), start]));
  const signals: string[] = [];
  const table: ProcessTable = {
    inspect: async (pid) => (running.has(pid) ? { alive: true, startTime: running.get(pid) } : { alive: false }),
    groupRunning: async (pgid) => running.has(pgid),
    signal(target, signal) {
      signals.push(`${signal} ${target}`);
      const pid = Math.abs(target);
      if (!running.has(pid)) return false;
      if (signal === 'SIGKILL' || (signal === 'SIGTERM' && !options.ignoresTerm?.includes(pid))) running.delete(pid);
      return true;
    },
  };
  return { table, signals, running };
}

describe('stopOrphans', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-registry-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const record = async (fields: Partial<ChildRecord> & { pid: number }) => {
    const full: ChildRecord = {
      pgid: fields.pid,
      startTime: 'child-start',
      command: 'node',
      backend: 'b',
      gatewayPid: 1000,
      gatewayStartTime: 'gateway-start',
      spawnedAt: '2026-01-01T00:00:00.000Z',
      ...fields,
    };
    await writeFile(join(dir, `${fields.pid}.json`), JSON.stringify(full));
  };
  const run = (table: ProcessTable) =>
    stopOrphans({ dir, logger: silentLogger, processes: table, graceMs: 50, platform: 'linux' });

  it('stops the group of a child whose gateway is gone and whose start time matches, then forgets it', async () => {
    await record({ pid: 10 });
    const fake = fakeTable({ 10: 'child-start' });
    expect(await run(fake.table)).toEqual({ stopped: [10], kept: [], discarded: [] });
    expect(fake.signals).toEqual(['SIGTERM -10']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('follows with SIGKILL when SIGTERM is ignored', async () => {
    await record({ pid: 10 });
    const fake = fakeTable({ 10: 'child-start' }, { ignoresTerm: [10] });
    await run(fake.table);
    expect(fake.signals).toEqual(['SIGTERM -10', 'SIGKILL -10']);
    expect(fake.running.has(10)).toBe(false);
  });

  it('never signals a pid now held by another process (different start time), nor one without a start time', async () => {
    await record({ pid: 10, startTime: 'child-start' });
    await record({ pid: 11, startTime: null });
    const fake = fakeTable({ 10: 'someone-else', 11: 'whatever' });
    expect(await run(fake.table)).toEqual({ stopped: [], kept: [], discarded: expect.arrayContaining([10, 11]) });
    expect(fake.signals).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the records of a gateway that still runs, and signals nothing', async () => {
    await record({ pid: 10 });
    const fake = fakeTable({ 10: 'child-start', 1000: 'gateway-start' });
    expect(await run(fake.table)).toEqual({ stopped: [], kept: [10], discarded: [] });
    expect(fake.signals).toEqual([]);
    expect(await readdir(dir)).toEqual(['10.json']);
  });

  it('treats a reused gateway pid as a dead gateway', async () => {
    await record({ pid: 10 });
    const fake = fakeTable({ 10: 'child-start', 1000: 'a-later-process' });
    expect((await run(fake.table)).stopped).toEqual([10]);
  });

  it('removes unreadable records and does nothing on Windows', async () => {
    await writeFile(join(dir, '12.json'), '{ not json');
    await record({ pid: 10 });
    const fake = fakeTable({ 10: 'child-start' });
    const windows = await stopOrphans({ dir, logger: silentLogger, processes: fake.table, platform: 'win32' });
    expect(windows).toEqual({ stopped: [], kept: [], discarded: [] });
    expect(fake.signals).toEqual([]);
    await run(fake.table);
    expect(await readdir(dir)).toEqual([]);
  });

  it('answers with nothing to do when the folder does not exist', async () => {
    const missing = await stopOrphans({ dir: join(dir, 'none'), logger: silentLogger, platform: 'linux' });
    expect(missing).toEqual({ stopped: [], kept: [], discarded: [] });
  });
});

describe('createChildRegistry', () => {
  it('writes a record with start times and removes it, even when removal is asked before the write ends', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'cortex-registry-')), 'children');
    try {
      const fake = fakeTable({ 42: 'child-start', [process.pid]: 'gateway-start' });
      const registry = createChildRegistry({ dir, logger: silentLogger, processes: fake.table, now: () => 0 });
      const adding = registry.add({ pid: 42, pgid: 42, command: 'npx', backend: 'b' });
      await adding;
      expect(JSON.parse(await readFile(join(dir, '42.json'), 'utf8'))).toEqual({
        pid: 42,
        pgid: 42,
        startTime: 'child-start',
        command: 'npx',
        backend: 'b',
        gatewayPid: process.pid,
        gatewayStartTime: 'gateway-start',
        spawnedAt: '1970-01-01T00:00:00.000Z',
      });
      await registry.remove(42);
      expect(await readdir(dir)).toEqual([]);
      // Removal queued behind a write still in progress leaves no record behind.
      void registry.add({ pid: 43, pgid: 43, command: 'x', backend: 'b' });
      await registry.remove(43);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
