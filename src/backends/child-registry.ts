import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { systemProcesses, type ProcessTable } from '../shared/processes.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * Stdio children live in their own process groups, so a gateway killed without warning (kill -9, a
 * crash, a power-button quit of the app) leaves any child that does not exit on stdin EOF running,
 * and the next start would launch a second copy beside it. Each child is therefore recorded in the
 * data folder while it runs (`children/<pid>.json`), and the next start stops what a dead gateway
 * left behind, but only a process that provably is the recorded one: same pid and same OS start
 * time. A reused pid never gets a signal.
 */
export interface ChildRecord {
  pid: number;
  /** Its process group (it leads its own on POSIX), or null when it has none of its own (Windows). */
  pgid: number | null;
  /** OS start time (see processStartTime); null when unknown, and then it is never signalled. */
  startTime: string | null;
  /** The program only: arguments may carry credentials and are not written down. */
  command: string;
  backend: string;
  gatewayPid: number;
  gatewayStartTime: string | null;
  spawnedAt: string;
}

export interface ChildRegistry {
  /** Writes the record of a child just spawned; never throws (a full disk must not stop a backend). */
  add(child: { pid: number; pgid: number | null; command: string; backend: string }): Promise<void>;
  /** Removes the record of a child that exited. */
  remove(pid: number): Promise<void>;
}

export interface ChildRegistryOptions {
  /** The folder records live in: `<dataDir>/children`. */
  dir: string;
  logger: Logger;
  processes?: ProcessTable;
  now?: () => number;
}

export function childrenDir(dataDir: string): string {
  return join(dataDir, 'children');
}

export function createChildRegistry(options: ChildRegistryOptions): ChildRegistry {
  const { dir, logger } = options;
  const processes = options.processes ?? systemProcesses;
  const now = options.now ?? Date.now;
  let gatewayStart: Promise<string | undefined> | undefined;
  let ready: Promise<unknown> | undefined;
  // Per pid, the last write or removal: a removal waits for the write it undoes.
  const pending = new Map<number, Promise<void>>();
  const file = (pid: number) => join(dir, `${pid}.json`);

  const chain = (pid: number, step: () => Promise<void>) => {
    const next = (pending.get(pid) ?? Promise.resolve()).then(step).finally(() => {
      if (pending.get(pid) === next) pending.delete(pid);
    });
    pending.set(pid, next);
    return next;
  };

  return {
    add(child) {
      return chain(child.pid, async () => {
        try {
          ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
          gatewayStart ??= startTimeOf(processes, process.pid);
          const [startTime, gatewayStartTime] = await Promise.all([
            startTimeOf(processes, child.pid),
            gatewayStart,
            ready,
          ]);
          const record: ChildRecord = {
            pid: child.pid,
            pgid: child.pgid,
            startTime: startTime ?? null,
            command: child.command,
            backend: child.backend,
            gatewayPid: process.pid,
            gatewayStartTime: gatewayStartTime ?? null,
            spawnedAt: new Date(now()).toISOString(),
          };
          // Not fsynced: it only has to survive the gateway process, not the machine (a reboot
          // takes the children with it).
          await writeFileAtomic(file(child.pid), JSON.stringify(record) + '\n', 0o600, { durable: false });
        } catch (error) {
          ready = undefined;
          logger.warn('could not record a backend child; a crash would leave it running', {
            pid: child.pid,
            error: describeError(error),
          });
        }
      });
    },
    remove(pid) {
      return chain(pid, async () => {
        await rm(file(pid), { force: true }).catch((error: unknown) =>
          logger.debug('could not remove a child record', { pid, error: describeError(error) }),
        );
      });
    },
  };
}

export interface StopOrphansOptions {
  dir: string;
  logger: Logger;
  processes?: ProcessTable;
  /** Between SIGTERM and SIGKILL, as when the gateway stops a child itself. Default 2 s. */
  graceMs?: number;
  platform?: NodeJS.Platform;
}

export interface OrphanReport {
  /** Children of a dead gateway that were still running and were stopped. */
  stopped: number[];
  /** Records left alone: their gateway still runs (another instance, or this one). */
  kept: number[];
  /** Records of processes that were gone or not provably ours, removed without any signal. */
  discarded: number[];
}

/**
 * Stops the children a crashed gateway left, before this one spawns its own. A record is acted on
 * only when its gateway is gone; its child is signalled only when it runs with the recorded start
 * time. Its whole process group gets SIGTERM, then SIGKILL after the grace period.
 */
export async function stopOrphans(options: StopOrphansOptions): Promise<OrphanReport> {
  const report: OrphanReport = { stopped: [], kept: [], discarded: [] };
  // Windows has neither process groups we create nor a start time we read: nothing is recorded.
  if ((options.platform ?? process.platform) === 'win32') return report;
  const { dir, logger } = options;
  const processes = options.processes ?? systemProcesses;
  const graceMs = options.graceMs ?? 2_000;
  const names = await readdir(dir).catch(() => [] as string[]);
  const same = async (pid: number, startTime: string | null) =>
    startTime !== null && (await startTimeOf(processes, pid)) === startTime;

  await Promise.all(
    names
      .filter((name) => /^\d+\.json$/.test(name))
      .map(async (name) => {
        const path = join(dir, name);
        const record = parseRecord(await readFile(path, 'utf8').catch(() => ''));
        if (!record) {
          await rm(path, { force: true });
          return;
        }
        if (await same(record.gatewayPid, record.gatewayStartTime)) {
          report.kept.push(record.pid);
          return;
        }
        if (await same(record.pid, record.startTime)) {
          logger.warn('stopping a backend child left running by a gateway that did not stop cleanly', {
            backend: record.backend,
            pid: record.pid,
            command: record.command,
          });
          await stopGroup(record, processes, graceMs);
          report.stopped.push(record.pid);
        } else {
          report.discarded.push(record.pid);
        }
        await rm(path, { force: true });
      }),
  );
  return report;
}

async function stopGroup(record: ChildRecord, processes: ProcessTable, graceMs: number): Promise<void> {
  // The verified leader is alive, so its pid cannot name anyone else's group.
  const target = record.pgid === record.pid ? -record.pid : record.pid;
  const gone = async () =>
    !(await processes.inspect(record.pid)).alive && (target > 0 || !(await processes.groupRunning(record.pid)));
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    processes.signal(target, signal);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (await gone()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The start time of a running process; undefined when it is gone (a zombie included) or unknown. */
async function startTimeOf(processes: ProcessTable, pid: number): Promise<string | undefined> {
  const info = await processes.inspect(pid);
  return info.alive ? info.startTime : undefined;
}

function parseRecord(text: string): ChildRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ChildRecord>;
    const pid = value.pid;
    const gatewayPid = value.gatewayPid;
    if (!Number.isSafeInteger(pid) || pid! <= 0 || !Number.isSafeInteger(gatewayPid)) return undefined;
    const pgid = Number.isSafeInteger(value.pgid) ? value.pgid! : null;
    return {
      pid: pid!,
      pgid,
      startTime: typeof value.startTime === 'string' ? value.startTime : null,
      command: typeof value.command === 'string' ? value.command : '',
      backend: typeof value.backend === 'string' ? value.backend : '',
      gatewayPid: gatewayPid!,
      gatewayStartTime: typeof value.gatewayStartTime === 'string' ? value.gatewayStartTime : null,
      spawnedAt: typeof value.spawnedAt === 'string' ? value.spawnedAt : '',
    };
  } catch {
    return undefined;
  }
}
