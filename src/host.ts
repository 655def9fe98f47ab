/**
 * The life of one gateway on one data folder, written once for `cortex-gateway serve` and the
 * desktop app: make the folder (0700), take its lock, build the gateway (the caller's `create`,
 * which loads what it needs), start it listening, record where it listens (lock and runtime.json),
 * start the backends; and on stop undo exactly that: stop, remove our runtime.json, release the
 * lock. What differs between the two hosts (flags, desktop settings, tray) stays in `create` and
 * around the returned instance.
 */
import { mkdir } from 'node:fs/promises';
import type { Gateway, GatewayAddress } from './gateway.js';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file.js';
import { silentLogger, type Logger } from './shared/logger.js';
import { acquireInstanceLock, type AcquireInstanceLockOptions, type InstanceLock } from './store/instance-lock.js';

export interface GatewayInstance extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly address: GatewayAddress;
  readonly lock: InstanceLock;
  /** Stops the gateway, removes the runtime file it wrote, releases the lock. Idempotent. */
  stop(): Promise<void>;
}

export interface StartGatewayInstanceOptions {
  dataDir: string;
  app: AcquireInstanceLockOptions['app'];
  /**
   * Builds the gateway once the lock is held, so a refused start opens nothing in the data folder
   * (stores, secret key, settings) and spawns nothing.
   */
  create: (lock: InstanceLock) => Gateway | Promise<Gateway>;
  logger?: Logger;
  /** Lock options for tests (a fake process probe, short timeouts). */
  lockOptions?: Omit<AcquireInstanceLockOptions, 'app' | 'logger'>;
}

/**
 * Throws `InstanceLockedError` (code `already_running`) when another live gateway holds the data
 * folder, before anything else happens. Any later failure stops what was started and releases the
 * lock before it is rethrown.
 */
export async function startGatewayInstance(options: StartGatewayInstanceOptions): Promise<GatewayInstance> {
  const { dataDir } = options;
  const logger = options.logger ?? silentLogger;
  // Private to the owner: it holds the OAuth keys, the secret store and the console sessions.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = await acquireInstanceLock(dataDir, { ...options.lockOptions, app: options.app, logger });
  let gateway: Gateway | undefined;
  let writer: { pid: number; ownerToken: string } | undefined;
  const undo = async () => {
    try {
      await gateway?.stop();
    } finally {
      if (writer) await removeRuntimeInfo(dataDir, writer).catch(() => false);
      await lock.release();
    }
  };
  try {
    gateway = await options.create(lock);
    // Where it listens is published before the backends start: spawning children blocks the event
    // loop a moment each, and the file operations below would each wait behind one (measured: the
    // ready banner came half a second later with ten stdio backends on a slow machine).
    const address = await gateway.start({ backends: 'later' });
    writer = { pid: process.pid, ownerToken: gateway.ownerToken };
    await Promise.all([
      lock.update({ port: address.port, mcpUrl: address.mcpUrl }),
      // The CLI (login, token, approvals…) finds the running gateway through this file.
      writeRuntimeInfo(dataDir, { mcpUrl: address.mcpUrl, consoleUrl: address.consoleUrl, ...writer }),
    ]);
    gateway.startBackends();
    let stopping: Promise<void> | undefined;
    const instance: GatewayInstance = {
      gateway,
      address,
      lock,
      stop: () => (stopping ??= undo()),
      [Symbol.asyncDispose]: () => instance.stop(),
    };
    return instance;
  } catch (error) {
    await undo().catch((cleanup: unknown) =>
      logger.error('cleaning up after a failed start failed', { error: String(cleanup) }),
    );
    throw error;
  }
}
