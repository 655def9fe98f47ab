/**
 * One gateway per data folder. A running gateway (`cortex-gateway serve` or the desktop app) holds
 * `gateway.lock` in its data folder; a second start finds it and refuses, naming the first. A lock
 * left behind by a crash is recognised (its process is gone, or its pid now belongs to another
 * process) and taken over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GatewayError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { systemProcesses, type ProcessProbe } from '../shared/processes.js';
import { writeFileAtomic } from './atomic.js';

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
): Promise<{ stale: false } | { stale: true; reason: string }> {
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

interface SeenLock {
  text: string;
  ino: number;
  mtimeMs: number;
  record: InstanceLockRecord | undefined;
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

/** Content and inode read through one handle, so both describe the same file even if it is replaced. */
async function readLock(path: string): Promise<SeenLock | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      const text = await handle.readFile('utf8');
      return { text, ino: info.ino, mtimeMs: info.mtimeMs, record: parseRecord(text) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockFileError(path, error);
  }
}

function lockFileError(path: string, error: unknown): GatewayError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new GatewayError('permission_denied', `${path}: cannot use the gateway lock file (${code})`, {
      field: path,
      cause: error,
    });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new GatewayError('disk_full', `${path}: cannot write the gateway lock file: the disk is full`, {
      field: path,
      cause: error,
    });
  }
  return new GatewayError('internal', `${path}: ${(error as Error).message}`, { field: path, cause: error });
}

/** Exclusive create: true when this call made the file, false when one was already there. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw lockFileError(path, error);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw lockFileError(path, error);
  }
  await handle.close();
  return true;
}

/**
 * Removes the stale lock `seen` if it is still there; true when this call removed it. An unlink is
 * not conditional: two starters that judged the same file stale could both remove "it", the second
 * removing the lock the first had just created. So removing needs a claim, a file named after the
 * stale lock (inode and content) and created exclusively: only its creator re-reads the lock and
 * unlinks it if it is still that same file, which nobody else can replace while it is there. A claim
 * whose creator has died (killed in that instant) is passed over for the next numbered one.
 */
async function removeStale(
  path: string,
  seen: SeenLock,
  claimer: InstanceLockRecord,
  probe: ProcessProbe,
  grace: number,
): Promise<'removed' | 'changed' | 'busy'> {
  const key = createHash('sha256').update(`${seen.ino}\n${seen.text}`).digest('hex').slice(0, 16);
  for (let n = 0; n < 100; n++) {
    const claim = `${path}.takeover-${key}.${n}`;
    if (await createExclusive(claim, JSON.stringify(claimer))) {
      try {
        const now = await readLock(path);
        if (!now || now.ino !== seen.ino || now.text !== seen.text) return 'changed';
        await rm(path, { force: true });
        return 'removed';
      } finally {
        await rm(claim, { force: true });
      }
    }
    const other = await readLock(claim);
    // Released a moment ago, or being written: let the caller look at the lock again.
    if (!other || (!other.record && Date.now() - other.mtimeMs < grace)) return 'busy';
    if (other.record && !(await holderState(other.record, probe)).stale) return 'busy';
  }
  throw new GatewayError('conflict', `${path}: too many abandoned takeover files next to the gateway lock`, {
    field: path,
  });
}

/** Claims left by starters killed mid-takeover: moot once the lock is ours, removed for tidiness. */
async function removeDeadClaims(path: string, probe: ProcessProbe): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.takeover-`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const claim = await readLock(join(dir, name)).catch(() => undefined);
    if (claim?.record && !(await holderState(claim.record, probe)).stale) continue;
    await rm(join(dir, name), { force: true });
  }
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
  let replaced: InstanceLock['replaced'];

  for (;;) {
    if (await createExclusive(path, JSON.stringify(record, null, 2) + '\n')) break;
    const seen = await readLock(path);
    let reason = '';
    if (!seen) {
      // Released in between: try again.
    } else if (seen.record) {
      const state = await holderState(seen.record, probe);
      if (!state.stale) throw new InstanceLockedError(seen.record, dataDir);
      reason = state.reason;
    } else if (Date.now() - seen.mtimeMs >= grace) {
      reason = 'the lock file was unreadable (left half-written)';
    } else {
      // Created a moment ago and not written yet: its holder is between open() and write().
      await delay(25);
    }
    if (seen && reason) {
      const outcome = await removeStale(path, seen, record, probe, grace);
      if (outcome === 'removed') {
        replaced = { holder: seen.record, reason };
        logger.warn('took over a stale gateway lock', { path, reason });
      } else if (outcome === 'busy') await delay(25);
    }
    if (Date.now() > deadline) {
      throw new GatewayError('conflict', `${path}: could not take the gateway lock: other starts keep changing it`, {
        field: path,
      });
    }
  }

  await removeDeadClaims(path, probe);

  let released = false;
  const isOurs = (text: string) => parseRecord(text)?.id === record.id;
  const lock: InstanceLock = {
    path,
    get record() {
      return record;
    },
    replaced,
    async update(fields) {
      const current = await readLock(path);
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
      const current = await readLock(path).catch(() => undefined);
      if (current && isOurs(current.text)) await rm(path, { force: true });
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (isOurs(readFileSync(path, 'utf8'))) unlinkSync(path);
      } catch {
        // Gone already, or unreadable: either way not ours to remove.
      }
    },
    async [Symbol.asyncDispose]() {
      await lock.release();
    },
  };
  return lock;
}

/** The current holder of the data folder's lock, if the file is there and readable (for messages). */
export async function readInstanceLock(dataDir: string): Promise<InstanceLockRecord | undefined> {
  return (await readLock(instanceLockPath(dataDir)).catch(() => undefined))?.record;
}
