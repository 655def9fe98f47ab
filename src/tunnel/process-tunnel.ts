import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { backoffDelay } from '../backends/backoff.js';
import type { Clock } from '../shared/clock.js';
import { describeError, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { RingBuffer } from '../shared/ring-buffer.js';
import type { TunnelProvider, TunnelProviderEvents, TunnelProviderStatus } from './provider.js';

/** How one tunnel program is run and read: what differs between cloudflared and ngrok. */
export interface TunnelProgram {
  /** Provider name, as in the config (`cloudflare`, `ngrok`). */
  name: string;
  /** The executable looked up on PATH when no explicit path is configured. */
  binary: string;
  /** Where the user can set an explicit path, and get the program, for error messages. */
  pathSetting: string;
  installUrl: string;
  args(target: string): string[];
  /** The public https origin announced by one output line, if it announces it. */
  parseUrl(line: string): string | undefined;
  /** The line says the public URL now answers; without one the URL counts after a grace period. */
  isConnected?(line: string): boolean;
  /** The error a line reports, if it is an error line (used for the last error shown). */
  errorOf(line: string): string | undefined;
}

export interface ProcessTunnelOptions {
  logger: Logger;
  clock: Clock;
  /** An explicit binary; otherwise the program's `binary` is looked up on the PATH of `env`. */
  executable?: string;
  /** Environment for the lookup and for the child. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  random?: () => number;
  /** How long the program may take to announce its public URL. Default 30 s. */
  startTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 5 s. */
  stopTimeoutMs?: number;
  /** Restart backoff after the tunnel dropped: first delay and cap. Default 1 s and 60 s. */
  restartBaseMs?: number;
  restartMaxMs?: number;
}

/** A tunnel that stayed up this long counts as healthy: the next drop starts the backoff afresh. */
const STABLE_MS = 60_000;
/** After the URL is announced, how long to wait for the program to say it is connected. */
const CONNECT_GRACE_MS = 10_000;

/**
 * Finds an executable: an explicit path must exist and be executable; a bare name is looked up on
 * PATH (with PATHEXT on Windows), because GUI apps and services have no shell to do it for them.
 */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const runnable = async (path: string) => {
    try {
      await access(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(name) || name.includes('/') || name.includes('\\')) return (await runnable(name)) ? name : undefined;
  const pathValue = env.PATH ?? env.Path ?? '';
  const extensions =
    process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').toLowerCase().split(';')] : [''];
  for (const dir of pathValue.split(delimiter).filter(Boolean)) {
    for (const ext of extensions) {
      const candidate = join(dir, name + ext);
      if (await runnable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * A tunnel run by a program on the user's machine (cloudflared, the ngrok agent). The child is
 * supervised: if it exits while wanted, it is started again with backoff (the new URL, which may
 * differ, is announced), and it is killed, never orphaned, when the tunnel or the process stops.
 */
export class ProcessTunnel implements TunnelProvider {
  readonly name: string;
  readonly events = new EventEmitter<TunnelProviderEvents>();
  readonly #program: TunnelProgram;
  readonly #options: ProcessTunnelOptions;
  readonly #log: Logger;
  #status: TunnelProviderStatus;
  #child: ChildProcess | undefined;
  #wanted = false;
  #target = '';
  #attempt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Kills the child if this process exits without stopping the tunnel (a second Ctrl-C). */
  readonly #killOnExit = () => {
    this.#child?.kill('SIGKILL');
  };

  constructor(program: TunnelProgram, options: ProcessTunnelOptions) {
    this.name = program.name;
    this.#program = program;
    this.#options = options;
    this.#log = options.logger.child({ component: 'tunnel', provider: program.name });
    this.#status = { state: 'stopped', since: options.clock.now(), restartCount: 0 };
  }

  status(): TunnelProviderStatus {
    return { ...this.#status };
  }

  async start(target: string): Promise<string> {
    if (this.#wanted) throw new GatewayError('invalid_argument', 'The tunnel is already started');
    this.#wanted = true;
    this.#target = target;
    this.#attempt = 0;
    this.#status = { state: 'stopped', since: this.#options.clock.now(), restartCount: 0 };
    this.#set({ state: 'starting' });
    try {
      const url = await this.#launch();
      return url;
    } catch (error) {
      // Stopped while starting: that is `stopped`, not a failure.
      const stoppedMeanwhile = !this.#wanted;
      this.#wanted = false;
      if (!stoppedMeanwhile) this.#set({ state: 'failed', lastError: describeError(error) });
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#kill();
    if (this.#status.state !== 'stopped') this.#set({ state: 'stopped' });
  }

  #set(change: Partial<TunnelProviderStatus> & { state: TunnelProviderStatus['state'] }): void {
    const next: TunnelProviderStatus = {
      ...this.#status,
      ...change,
      since: this.#options.clock.now(),
    };
    if (change.state !== 'running') delete next.publicUrl;
    if (change.state === 'stopped') delete next.lastError;
    this.#status = next;
    this.events.emit('state', this.status());
  }

  /** Spawns the program and resolves with the public URL once it is announced and connected. */
  async #launch(): Promise<string> {
    const env = this.#options.env ?? process.env;
    const program = this.#program;
    const bin = program.binary;
    const hint = `install it (${program.installUrl}) or set ${program.pathSetting}`;
    const executable = await findExecutable(this.#options.executable ?? bin, env);
    if (!executable) {
      throw new GatewayError(
        'tunnel_failed',
        this.#options.executable
          ? `${bin} not found or not executable at ${this.#options.executable}; ${hint}`
          : `${bin} was not found on PATH; ${hint}`,
      );
    }
    if (!this.#wanted) throw new GatewayError('tunnel_failed', 'The tunnel was stopped while starting');
    const child = spawn(executable, program.args(this.#target), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.#child = child;
    process.on('exit', this.#killOnExit);
    const recent = new RingBuffer<string>(20);
    const startedAt = this.#options.clock.now();

    return new Promise<string>((resolve, reject) => {
      let url: string | undefined;
      let settled = false;
      let up = false;
      const settle = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        if (error) {
          reject(error);
          return;
        }
        up = true;
        this.#log.info('tunnel up', { publicUrl: url });
        this.#set({ state: 'running', publicUrl: url! });
        resolve(url!);
      };
      const lastError = () =>
        recent
          .toArray()
          .map((l) => program.errorOf(l))
          .filter(Boolean)
          .at(-1) ?? recent.toArray().at(-1);
      const timer = setTimeout(() => {
        settle(
          new GatewayError(
            'tunnel_failed',
            `${bin} printed no public URL within ${Math.round((this.#options.startTimeoutMs ?? 30_000) / 1000)} s` +
              (lastError() ? `: ${lastError()}` : ''),
          ),
        );
        child.kill('SIGKILL');
      }, this.#options.startTimeoutMs ?? 30_000);
      // Some programs (cloudflared) announce the URL before it answers: wait briefly for their
      // "connected" line so the URL shown works, but never depend on that wording.
      let grace: NodeJS.Timeout | undefined;
      const onLine = (line: string) => {
        recent.push(line);
        this.#log.debug(bin, { line });
        if (!url) {
          url = program.parseUrl(line);
          if (url && !program.isConnected) settle(undefined);
          else if (url) grace = setTimeout(() => settle(undefined), CONNECT_GRACE_MS);
        } else if (program.isConnected?.(line)) {
          settle(undefined);
        }
      };
      createInterface({ input: child.stderr! }).on('line', onLine);
      createInterface({ input: child.stdout! }).on('line', onLine);
      const forget = () => {
        if (this.#child === child) this.#child = undefined;
        process.off('exit', this.#killOnExit);
      };
      child.once('error', (error) => {
        // Spawning failed (permissions, a broken binary): no 'exit' follows.
        forget();
        settle(new GatewayError('tunnel_failed', `could not run ${bin}: ${describeError(error)}`));
      });
      child.once('exit', (code, signal) => {
        forget();
        const reason = `${bin} exited (${signal ?? `code ${code}`})` + (lastError() ? `: ${lastError()}` : '');
        if (!settled) settle(new GatewayError('tunnel_failed', reason));
        else if (up && this.#wanted) this.#dropped(reason, this.#options.clock.now() - startedAt);
      });
    });
  }

  /** The tunnel went away while wanted: announce it and try again after a backoff. */
  #dropped(reason: string, upForMs: number): void {
    if (upForMs >= STABLE_MS) this.#attempt = 0;
    this.#attempt += 1;
    const delay = backoffDelay(
      this.#attempt,
      this.#options.restartBaseMs ?? 1_000,
      this.#options.restartMaxMs ?? 60_000,
      this.#options.random,
    );
    this.#log.warn('tunnel dropped; restarting', { reason, inMs: delay });
    this.#set({ state: 'starting', lastError: reason, restartCount: this.#status.restartCount + 1 });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#wanted) return;
      this.#launch().catch((error: unknown) => {
        // A failed restart attempt (no URL, exit before it) is one more drop.
        if (this.#wanted) this.#dropped(describeError(error), 0);
      });
    }, delay);
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs ?? 5_000);
    await exited;
    clearTimeout(timer);
  }
}
