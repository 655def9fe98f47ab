/**
 * One gateway per data folder. A running gateway (`cortex-gateway serve` or the desktop app) holds
 * `gateway.lock` in its data folder; a second start finds it and refuses, naming the first. A lock
 * left behind by a crash is recognised (its process is gone, or its pid now belongs to another
 * process) and taken over, by exactly one of several starters (see lock-file.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GatewayError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { systemProcesses, type ProcessProbe } from '../shared/processes.js';
import { writeFileAtomic } from './atomic.js';
import { fileSystemError } from './fs-errors.js';
import { createLockFile, type LockFile, type Staleness } from './lock-file.js';

export const INSTANCE_LOCK_FILE = 'gateway.lock';

export const instanceLockPath = (dataDir: string) => join(dataDir, INSTANCE_LOCK_FILE);

/** Which program holds the lock: said in the refusal a second start prints. */
export type InstanceApp = 'cli' | 'desktop';

/** The lock file's content (JSON). */
export interface InstanceLockRecord {
  /** Random per acquisition: how the holder recognises its own file when it releases or updates it. */
  id: string;
  pid: number;
  /** The OS's start time of `pid` (see shared/processes.ts); absent where it cannot be read (Windows). */
  processStart?: string;
  /** When the lock was taken (ISO 8601). */
  startedAt: string;
  app: InstanceApp;
  dataDir: string;
  /** Where the gateway listens, once it does. */
  port?: number;
  mcpUrl?: string;
}

// ---------------------------------------------------------------------------------------------
// The holder

/** Whether the lock's holder still runs: stale when its pid is gone, or now names another process. */
export async function holderState(
  record: Pick<InstanceLockRecord, 'pid' | 'processStart'>,
  probe: ProcessProbe = systemProcesses,
): Promise<Staleness> {
  const info = await probe.inspect(record.pid);
  if (!info.alive) return { stale: true, reason: `process ${record.pid} is not running` };
  // A start time that cannot be read (Windows, a ps that timed out) leaves an alive pid counted as
  // the holder: a refused start is recoverable, two gateways on one folder are not.
  if (record.processStart === undefined || info.startTime === undefined) return { stale: false };
  if (info.startTime !== record.processStart) {
    return { stale: true, reason: `pid ${record.pid} now belongs to another process (the holder has exited)` };
  }
  return { stale: false };
}

// ---------------------------------------------------------------------------------------------
// The lock

/** A second start is refused: another live process holds the data folder's lock. */
export class InstanceLockedError extends GatewayError {
  readonly lockPath: string;
  constructor(
    readonly holder: InstanceLockRecord,
    /** The folder this start asked for (the holder's record is only what its file says). */
    readonly dataDir: string,
  ) {
    super('already_running', alreadyRunningMessage(holder, dataDir), { field: instanceLockPath(dataDir) });
    this.lockPath = instanceLockPath(dataDir);
  }
}

const APP_NAMES: Record<InstanceApp, string> = { cli: 'cortex-gateway serve', desktop: 'the desktop app' };

/** Who holds the lock, in words: "cortex-gateway serve, pid 123, http://127.0.0.1:3590/mcp, since …". */
export function describeHolder(holder: InstanceLockRecord): string {
  const where = holder.mcpUrl ?? (holder.port !== undefined ? `port ${holder.port}` : 'still starting');
  return `${APP_NAMES[holder.app] ?? holder.app}, pid ${holder.pid}, ${where}, since ${holder.startedAt}`;
}

/** The one-line refusal of a second start. */
export function alreadyRunningMessage(holder: InstanceLockRecord, dataDir: string): string {
  return (
    `a gateway is already running for ${dataDir} (${describeHolder(holder)}); ` +
    `use that one, stop it first, or pass --data-dir DIR to run a second gateway with its own data folder`
  );
}

export interface InstanceLock extends AsyncDisposable {
  readonly path: string;
  readonly record: Readonly<InstanceLockRecord>;
  /** The stale holder this lock replaced, and why it was stale (for the log). */
  readonly replaced: { holder: InstanceLockRecord | undefined; reason: string } | undefined;
  /** Records where the gateway listens (the refusal of a second start names it). */
  update(fields: { port: number; mcpUrl: string }): Promise<void>;
  /** Removes the lock file if it is still this one. Idempotent. */
  release(): Promise<void>;
  /** As release, for process exit paths that cannot wait. */
  releaseSync(): void;
}

export interface AcquireInstanceLockOptions {
  app: InstanceApp;
  logger?: Logger;
  /** Default: this process. Tests give another pid. */
  pid?: number;
  probe?: ProcessProbe;
  /**
   * A lock file that cannot be parsed is taken as being written right now (the holder creates it
   * empty, then writes) until it is this old; older, it was left half-written by a crash.
   */
  unreadableGraceMs?: number;
  /** How long to keep trying while other starters change the lock under us. */
  timeoutMs?: number;
}

function parseRecord(text: string): InstanceLockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<InstanceLockRecord> | null;
    if (
      !value ||
      typeof value.id !== 'string' ||
      typeof value.pid !== 'number' ||
      !Number.isSafeInteger(value.pid) ||
      value.pid <= 0 ||
      typeof value.startedAt !== 'string' ||
      typeof value.app !== 'string' ||
      typeof value.dataDir !== 'string' ||
      (value.processStart !== undefined && typeof value.processStart !== 'string')
    ) {
      return undefined;
    }
    return value as InstanceLockRecord;
  } catch {
    return undefined;
  }
}

/** File system failures as the errors the store gives (disk full, permission), anything else `internal`. */
function lockFileError(error: unknown, path: string, action: 'read' | 'write'): GatewayError {
  const mapped = fileSystemError(error, path, action);
  if (mapped instanceof GatewayError) return mapped;
  return new GatewayError('internal', `${path}: ${(error as Error).message}`, { field: path, cause: error });
}

/**
 * The data folder's lock file. A file that cannot be parsed is taken as being written right now (the
 * holder creates it empty, then writes) until it is `grace` old; older, it was left half-written by
 * a crash. A takeover claim holds its claimer's record and is judged the same way.
 */
function gatewayLockFile(path: string, probe: ProcessProbe, grace: number): LockFile<InstanceLockRecord> {
  return createLockFile({
    path,
    parse: parseRecord,
    async judge(seen) {
      if (seen.record) return holderState(seen.record, probe);
      if (Date.now() - seen.mtimeMs >= grace) {
        return { stale: true, reason: 'the lock file was unreadable (left half-written)' };
      }
      return { stale: false };
    },
    fail: lockFileError,
    durable: true,
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the data folder's lock, or throws InstanceLockedError naming the live holder. Call it before
 * the gateway opens its stores, listens or spawns a backend. A lock whose holder is gone is taken
 * over (and logged); exactly one of several concurrent starters wins.
 */
export async function acquireInstanceLock(dataDir: string, options: AcquireInstanceLockOptions): Promise<InstanceLock> {
  const path = instanceLockPath(dataDir);
  const logger = options.logger ?? silentLogger;
  const probe = options.probe ?? systemProcesses;
  const pid = options.pid ?? process.pid;
  const grace = options.unreadableGraceMs ?? 5_000;
  const self = await probe.inspect(pid);
  const processStart = self.alive ? self.startTime : undefined;
  let record: InstanceLockRecord = {
    id: randomBytes(12).toString('hex'),
    pid,
    ...(processStart !== undefined ? { processStart } : {}),
    startedAt: new Date().toISOString(),
    app: options.app,
    dataDir,
  };
  const deadline = Date.now() + (options.timeoutMs ?? grace + 5_000);
  const file = gatewayLockFile(path, probe, grace);

  const taken = await file.acquire({
    record: () => JSON.stringify(record, null, 2) + '\n',
    async wait(seen, staleness) {
      if (!staleness.stale && seen.record) throw new InstanceLockedError(seen.record, dataDir);
      // Created a moment ago and not written yet (its holder is between open() and write()), or
      // another starter is taking the stale lock over right now.
      if (Date.now() > deadline) {
        throw new GatewayError('conflict', `${path}: could not take the gateway lock: other starts keep changing it`, {
          field: path,
        });
      }
      await delay(25);
    },
  });
  const replaced = taken.replaced && { holder: taken.replaced.seen.record, reason: taken.replaced.reason };
  if (replaced) logger.warn('took over a stale gateway lock', { path, reason: replaced.reason });

  let released = false;
  const isOurs = (text: string) => parseRecord(text)?.id === record.id;
  const lock: InstanceLock = {
    path,
    get record() {
      return record;
    },
    replaced,
    async update(fields) {
      const current = await file.read();
      if (released || !current || !isOurs(current.text)) {
        throw new GatewayError('conflict', `${path}: this gateway no longer holds the lock`, { field: path });
      }
      record = { ...record, port: fields.port, mcpUrl: fields.mcpUrl };
      // Readers see the old record or the new one, never half of one.
      await writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n', 0o600, { durable: false });
    },
    async release() {
      if (released) return;
      released = true;
      await file.release((seen) => seen.record?.id === record.id, JSON.stringify(record));
    },
    releaseSync() {
      if (released) return;
      released = true;
      file.releaseSync(isOurs);
    },
    async [Symbol.asyncDispose]() {
      await lock.release();
    },
  };
  return lock;
}

/** The current holder of the data folder's lock, if the file is there and readable (for messages). */
export async function readInstanceLock(dataDir: string): Promise<InstanceLockRecord | undefined> {
  const path = instanceLockPath(dataDir);
  return (
    await gatewayLockFile(path, systemProcesses, 0)
      .read()
      .catch(() => undefined)
  )?.record;
}
