import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/gateway.js';
import { exitedPid } from '../../test/helpers/processes.js';
import {
  createProcessTable,
  inspectProcess,
  parseProcStat,
  processAlive,
  processRunning,
  processStartTime,
} from './processes.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** A process that runs until the test ends. */
async function sleeper(options: { detached?: boolean } = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore', ...options });
  started.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
}

describe('processStartTime', () => {
  it('reads the same value twice for this process, and another for a child', async () => {
    const mine = await processStartTime(process.pid);
    expect(mine).toBeTruthy();
    expect(await processStartTime(process.pid)).toBe(mine);
    const child = await sleeper();
    // Tick granularity (10 ms) could coincide; the child is told apart by waiting past one tick.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const theirs = await processStartTime(child.pid!);
    expect(theirs).toBeTruthy();
    expect(theirs).not.toBe(mine);
  });

  it('is undefined for a process that has exited, and for invalid pids', async () => {
    expect(await processStartTime(await exitedPid())).toBeUndefined();
    expect(await processStartTime(0)).toBeUndefined();
    expect(await processStartTime(-1)).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('prefixes the boot id on Linux (tick counts restart at boot)', async () => {
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    expect(await processStartTime(process.pid)).toMatch(new RegExp(`^${boot}:\\d+$`));
  });

  it.runIf(process.platform !== 'win32')('reads ps -o lstart (the macOS path) where ps exists', async () => {
    const fromPs = await processStartTime(process.pid, 'darwin');
    // e.g. "Mon Dec 1 10:00:00 2026": one line, with the year.
    expect(fromPs).toMatch(/^\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/);
    expect(await processStartTime(process.pid, 'darwin')).toBe(fromPs);
  });

  it('gives nothing on Windows: pid liveness only', async () => {
    expect(await processStartTime(process.pid, 'win32')).toBeUndefined();
  });
});

describe('parseProcStat', () => {
  it('counts fields from the last ")" so a command name with spaces and parentheses is skipped', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 4)).join(' ');
    // field 3 is the state, fields 4… are numbered by their position: field 5 holds "5", field 22 "22".
    expect(parseProcStat(`1234 (a) b (c)) S ${rest}`)).toEqual({ startTicks: '22', zombie: false, pgrp: 5 });
    expect(parseProcStat(`1234 (node) Z ${rest}`)).toEqual({ startTicks: '22', zombie: true, pgrp: 5 });
  });

  it('refuses a line it cannot read', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('1234 (node) S 1 2 3')).toBeUndefined();
  });
});

describe('processAlive', () => {
  it('is true for this process and false for an exited one, never signalling a group', async () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(await exitedPid())).toBe(false);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(-1)).toBe(false);
  });
});

describe('inspectProcess', () => {
  it('gives liveness and the start time together, and gone for an exited pid', async () => {
    expect(await inspectProcess(process.pid)).toEqual({ alive: true, startTime: await processStartTime(process.pid) });
    expect(await inspectProcess(await exitedPid())).toEqual({ alive: false });
    expect(await inspectProcess(0)).toEqual({ alive: false });
  });

  it('counts an alive pid without a readable start time as alive (Windows)', async () => {
    expect(await inspectProcess(process.pid, 'win32')).toEqual({ alive: true, startTime: undefined });
  });

  it.runIf(process.platform === 'linux')('counts a zombie (exited, not yet reaped) as gone', async () => {
    // The shell starts a child and execs into a sleep that never reaps it. The child is killed only
    // once the shell has become that sleep: a child that ended earlier could be reaped by the shell
    // itself (it did under CI load, leaving no zombie to find).
    const parent = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; exec sleep 10'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    started.push(parent);
    let out = '';
    parent.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const zombie = Number(await waitFor(() => /^(\d+)\n/.exec(out)?.[1], 'the child pid'));
    await waitFor(
      async () => (await readFile(`/proc/${parent.pid}/cmdline`, 'utf8')).startsWith('sleep\0'),
      'the shell to exec into sleep',
    );
    process.kill(zombie, 'SIGKILL');
    await waitFor(async () => (await readFile(`/proc/${zombie}/stat`, 'utf8')).includes(') Z '), 'a zombie');
    expect(processAlive(zombie)).toBe(true);
    expect(await inspectProcess(zombie)).toEqual({ alive: false });
    expect(await processRunning(zombie)).toBe(false);
    expect(await processStartTime(zombie)).toBeUndefined();
  });
});

describe.runIf(process.platform !== 'win32')('createProcessTable', () => {
  const table = createProcessTable();

  it('tells whether a process group still has a member running, and signals the group', async () => {
    const leader = await sleeper({ detached: true });
    expect(await table.groupRunning(leader.pid!)).toBe(true);
    expect(table.signal(-leader.pid!, 'SIGKILL')).toBe(true);
    await waitFor(async () => !(await table.groupRunning(leader.pid!)), 'the group gone');
    // A dead leader not yet reaped (a zombie) still answers kill(-pgid, 0): wait for our reaping.
    await waitFor(() => !table.signal(-leader.pid!, 0), 'the group reaped');
    expect(await table.groupRunning(0)).toBe(false);
  });

  it('inspects as inspectProcess does', async () => {
    expect(await table.inspect(process.pid)).toEqual(await inspectProcess(process.pid));
  });
});
