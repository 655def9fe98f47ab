import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

/**
 * What the gateway asks the OS about processes it did not necessarily start: whether one still runs,
 * and when it started. A pid is reused once its process has exited, so a recorded pid is only ever
 * trusted (as a lock's holder) or signalled (as a crashed gateway's orphan) while its start time
 * proves it is still the recorded process. The lock files and the stdio children share this one
 * reading of the OS; the ports below let their decisions be tested with a fake table.
 */

/** What a probe tells of a pid: gone, or alive with its start time when that can be read. */
export type ProcessInfo = { alive: false } | { alive: true; startTime: string | undefined };

/** Liveness and start time of a pid: all a lock needs to judge its holder. Tests pass their own. */
export interface ProcessProbe {
  /** A zombie (exited, not yet reaped by its parent) is gone. */
  inspect(pid: number): Promise<ProcessInfo>;
}

/** What supervising children needs besides: their process groups and signals. */
export interface ProcessTable extends ProcessProbe {
  /** Whether any process of the group runs (zombies excluded where the OS lets us tell). */
  groupRunning(pgid: number): Promise<boolean>;
  /** Sends a signal; a negative target is a process group (POSIX kill(2)). False if nothing received it. */
  signal(target: number, signal: NodeJS.Signals | 0): boolean;
}

/**
 * Whether a process with this pid exists (EPERM: it exists but belongs to another user). Instant and
 * synchronous, for exit paths and sweeps; it counts a zombie as alive (see inspectProcess).
 */
export function processAlive(pid: number): boolean {
  // kill(0, …) and negative pids signal process groups: never a valid answer for one process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The fields of a Linux `/proc/<pid>/stat` line the gateway reads. */
export interface ProcStat {
  /** Field 22 (`starttime`): clock ticks after boot. */
  startTicks: string;
  /** Field 3 is `Z`: dead, waiting for its parent to reap it. */
  zombie: boolean;
  /** Field 5: the process group. */
  pgrp: number;
}

/**
 * Parses a `/proc/<pid>/stat` line. Field 2 is the command name in parentheses and may itself hold
 * spaces and parentheses, so fields are counted from the last `)`. proc(5).
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field 5 is fields[2] and field 22 is fields[19].
  const [state, , pgrp] = fields;
  const startTicks = fields[19];
  if (!state || !pgrp || !/^\d+$/.test(pgrp) || !startTicks || !/^\d+$/.test(startTicks)) return undefined;
  return { startTicks, zombie: state === 'Z', pgrp: Number(pgrp) };
}

/**
 * A /proc file, read at once with one small synchronous read. These are kernel-generated text of a
 * few hundred bytes that take microseconds, and never block on a disk. Read through the async API,
 * each took three trips through libuv's four-thread pool, queued behind every other file operation:
 * measured at start-up with ten stdio children (each recorded with its start time), that held the
 * ready banner back by a third. readFile() also reads /proc files in 64 KiB chunks (their size reads
 * as 0).
 */
async function readProcFile(path: string): Promise<string> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4096);
    const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    closeSync(fd);
  }
}

/** /proc/<pid>/stat read and parsed: 'gone' when there is no such process, undefined when unreadable. */
async function readProcStat(pid: number): Promise<ProcStat | 'gone' | undefined> {
  try {
    return parseProcStat(await readProcFile(`/proc/${pid}/stat`));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
}

/** Read once per process: it changes only at a reboot, and every child's start time carries it. */
let bootId: Promise<string | undefined> | undefined;

function linuxBootId(): Promise<string | undefined> {
  bootId ??= readProcFile('/proc/sys/kernel/random/boot_id').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  return bootId;
}

async function linuxStartTime(stat: ProcStat): Promise<string> {
  const boot = await linuxBootId();
  return boot ? `${boot}:${stat.startTicks}` : stat.startTicks;
}

function psStartTime(pid: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    // LC_ALL=C: lstart is printed with the locale's day and month names otherwise, and the text is
    // compared with one another run wrote. A fixed PATH: the system's ps, not one found first on
    // the user's PATH.
    execFile(
      'ps',
      ['-o', 'lstart=', '-p', String(pid)],
      { env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' }, timeout: 5_000, windowsHide: true },
      (error, stdout) => {
        // ps pads a one-digit day with a second space: one space, so readings compare as text.
        const text = String(stdout).trim().replace(/\s+/g, ' ');
        resolve(error || !text ? undefined : text);
      },
    );
  });
}

/**
 * A string that identifies when the OS started process `pid`, or undefined when it cannot be told
 * (no such running process, Windows, no /proc or `ps`). Two readings for the same process are
 * equal; a process that later got the same pid gives a different one. Compare, never parse.
 *
 * Linux: field 22 of /proc/<pid>/stat, prefixed with the boot id (tick counts restart at every
 * boot, and an app started at login tends to get the same pid and ticks each time); a zombie gives
 * undefined. macOS and the BSDs: `ps -o lstart=` (to the second). Windows: undefined, so callers
 * fall back to pid liveness alone.
 */
export async function processStartTime(
  pid: number,
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0 || platform === 'win32') return undefined;
  if (platform === 'linux') {
    const stat = await readProcStat(pid);
    return stat && stat !== 'gone' && !stat.zombie ? linuxStartTime(stat) : undefined;
  }
  return psStartTime(pid);
}

/**
 * Liveness and start time of a pid on this machine. On Linux both come from one read of
 * /proc/<pid>/stat, so a process exiting in between cannot pass for alive with an unreadable start
 * time; a zombie is gone.
 */
export async function inspectProcess(pid: number, platform: NodeJS.Platform = process.platform): Promise<ProcessInfo> {
  if (!processAlive(pid)) return { alive: false };
  if (platform === 'linux') {
    const stat = await readProcStat(pid);
    if (stat === 'gone' || stat?.zombie) return { alive: false };
    return { alive: true, startTime: stat ? await linuxStartTime(stat) : undefined };
  }
  return { alive: true, startTime: await processStartTime(pid, platform) };
}

/** Whether the process exists and has not exited (a zombie awaiting its reaper counts as exited). */
export async function processRunning(pid: number, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  return (await inspectProcess(pid, platform)).alive;
}

/** The OS's process table as seen from this process. */
export function createProcessTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  const signal = (target: number, sig: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(target, sig);
      return true;
    } catch (error) {
      // EPERM: it exists but belongs to someone else; it is not ours to signal either way.
      return (error as NodeJS.ErrnoException).code === 'EPERM' && sig === 0;
    }
  };
  return {
    inspect: (pid) => inspectProcess(pid, platform),
    async groupRunning(pgid) {
      if (platform === 'win32' || !Number.isSafeInteger(pgid) || pgid <= 0 || !signal(-pgid, 0)) return false;
      if (platform !== 'linux') return true;
      // kill(-pgid, 0) also succeeds for a group of zombies, which a PID 1 that never reaps (some
      // containers) leaves behind forever: look for a member that still runs.
      const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
      for (const name of pids) {
        const stat = await readProcStat(Number(name));
        if (stat && stat !== 'gone' && stat.pgrp === pgid && !stat.zombie) return true;
      }
      return false;
    },
    signal,
  };
}

/** The process table of this machine, for callers not given another. */
export const systemProcesses: ProcessTable = createProcessTable();
