import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/**
 * What the gateway asks the OS about processes it did not necessarily start: whether one still runs,
 * and when it started, so a recorded pid is only ever signalled while it is provably the same
 * process (pids are reused). A port, so clean-up decisions can be tested with a fake table.
 */
export interface ProcessTable {
  /** An opaque, comparable start time of a running process; undefined if unknown or gone. */
  startTime(pid: number): Promise<string | undefined>;
  /** Whether the process exists and has not exited (a zombie awaiting its reaper counts as exited). */
  running(pid: number): Promise<boolean>;
  /** Whether any process of the group runs (zombies excluded where the OS lets us tell). */
  groupRunning(pgid: number): Promise<boolean>;
  /** Sends a signal; a negative target is a process group (POSIX kill(2)). False if nothing received it. */
  signal(target: number, signal: NodeJS.Signals | 0): boolean;
}

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
    startTime: (pid) => processStartTime(pid, platform),
    async running(pid) {
      if (!signal(pid, 0)) return false;
      if (platform !== 'linux') return true;
      const stat = await linuxStat(pid);
      return stat !== undefined && stat.state !== 'Z';
    },
    async groupRunning(pgid) {
      if (platform === 'win32' || !signal(-pgid, 0)) return false;
      if (platform !== 'linux') return true;
      // kill(-pgid, 0) also succeeds for a group of zombies, which a PID 1 that never reaps (some
      // containers) leaves behind forever: look for a member that still runs.
      const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
      for (const name of pids) {
        const stat = await linuxStat(Number(name));
        if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
      }
      return false;
    },
    signal,
  };
}

/**
 * When a process started, as a string equal for the same process and different for another one
 * that got the same pid later. Linux: boot id and field 22 of /proc/<pid>/stat (clock ticks since
 * boot; the boot id tells boots apart). macOS and other BSDs: `ps -o lstart=`. Windows: unknown.
 */
export async function processStartTime(
  pid: number,
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (platform === 'win32') return undefined;
  if (platform === 'linux') {
    const stat = await linuxStat(pid);
    if (!stat) return undefined;
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
    return `${boot}:${stat.startTicks}`;
  }
  return new Promise((resolve) => {
    // A fixed locale: the text is compared with one written by another run.
    execFile(
      'ps',
      ['-o', 'lstart=', '-p', String(pid)],
      { env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' } },
      (error, out) => resolve(error || !out.trim() ? undefined : out.trim()),
    );
  });
}

interface LinuxStat {
  state: string;
  pgrp: number;
  startTicks: string;
}

/** proc(5): fields after the command name, which is in parentheses and may itself hold ") ". */
async function linuxStat(pid: number): Promise<LinuxStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), fields[2] field 5 (pgrp), fields[19] field 22 (starttime).
  const [state, , pgrp] = fields;
  const startTicks = fields[19];
  if (!state || !pgrp || !startTicks) return undefined;
  return { state, pgrp: Number(pgrp), startTicks };
}
