import { ProtocolError, SdkError, SdkErrorCode, type Client } from '@modelcontextprotocol/client';
import type { GatewaySettings } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { backoffDelay } from './backoff.js';
import { isSessionGone } from './connectors/http.js';
import type { BackendErrorKind, BackendState, BackendStatus } from './types.js';

/** Consecutive failed pings before a connected backend is torn down and restarted. */
const PING_FAILURES_BEFORE_RESTART = 3;

/** An open, initialized connection to the server. */
export interface Connection {
  client: Client;
  transport: BackendStatus['transport'];
}

/** Why a run failed, in words for the owner and as a kind for code (see BackendErrorKind). */
export interface Failure {
  message: string;
  kind: BackendErrorKind;
}

/** What the supervisor shows of a backend's health, for its status. */
export type Health = Pick<
  BackendStatus,
  | 'state'
  | 'since'
  | 'restartCount'
  | 'transport'
  | 'lastError'
  | 'lastErrorKind'
  | 'lastStderr'
  | 'latencyMs'
  | 'server'
  | 'protocolVersion'
>;

/** A connection being opened, which stop() must close (the client, and the transport it may not own yet). */
export interface Connecting {
  close(): Promise<unknown>;
}

export interface SupervisorOptions {
  settings: Pick<GatewaySettings, 'pingIntervalMs' | 'restartBaseMs' | 'restartMaxMs' | 'maxRestarts'>;
  clock: Clock;
  random?: (() => number) | undefined;
  log: Logger;
  /** The state a backend starts in: `disabled` when its entry is turned off. */
  enabled: () => boolean;
  /** How long a ping may take before it counts as failed. */
  pingTimeoutMs: () => number;
  /** Connects and initializes; the client's onclose must call `closed(generation)`. */
  open: (generation: number) => Promise<Connection>;
  /** What must be fetched before the connection counts as ready (the catalog). */
  load: (client: Client) => Promise<void>;
  /** Words and kind for a failed start (open or load rejected). */
  describeStartFailure: (error: unknown) => Failure;
  /** Words and kind for a connection that closed while it was in use. */
  connectionLost: () => Failure;
  /** The last lines the failed run printed (stdio), kept beside `lastError`. */
  failedRunOutput: () => string[] | undefined;
  /** Masks the backend's secrets out of an error's text. */
  mask: (text: string) => string;
  /** The health changed (state, error, latency…). */
  changed: () => void;
  /** The backend became ready after `ms` of connecting. */
  ready: (transport: BackendStatus['transport'], ms: number) => void;
  /** The connection was closed and dropped (the child's pid is gone with it). */
  detached: () => void;
}

/**
 * A backend's lifecycle: connect in the background, mark it `ready`, ping it while it is (latency,
 * `degraded` on a missed ping, restart after several), and when it dies reconnect (or respawn)
 * with exponential backoff and jitter up to `maxRestarts`. Every change bumps a generation, so a
 * late answer from an old connection or timer never touches the current one.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  #client: Client | undefined;
  /** A connection still opening (spawned, not yet initialized): stop() must close it too. */
  #connecting: Connecting | undefined;
  #transport: BackendStatus['transport'];
  #server: BackendStatus['server'];
  /** The MCP revision the connection speaks (2026-07-28, or the one initialize agreed on). */
  #protocolVersion: string | undefined;
  #state: BackendState;
  #since: number;
  #lastError: string | undefined;
  /** What kind of failure `#lastError` is, recorded with it where it happened. */
  #lastErrorKind: BackendErrorKind | undefined;
  /** The last stderr lines of the run that failed with `#lastError` (stdio only). */
  #lastStderr: string[] | undefined;
  /** Round-trip of the last successful ping: never start-up time. */
  #latencyMs: number | undefined;
  #restartCount = 0;
  /** Restarts since the backend was last ready: the backoff exponent. */
  #attempt = 0;
  #pingFailures = 0;
  /** maxRestarts reached: down until restarted by hand. */
  #gaveUp = false;
  #generation = 0;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  /** A new session being opened after the server forgot ours; calls wait for it. */
  #renewing: Promise<void> | undefined;
  /** Clients replaced by a session renewal: their failed calls are retried on the new one. */
  readonly #retired = new WeakSet<Client>();

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#state = options.enabled() ? 'connecting' : 'disabled';
    this.#since = options.clock.now();
  }

  get state(): BackendState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The connected client, if any (it may be retired by a renewal under way). */
  get client(): Client | undefined {
    return this.#client;
  }

  /** A renewal of the session under way, which requests wait for. */
  get renewing(): Promise<void> | undefined {
    return this.#renewing;
  }

  /**
   * Whether the backend is on its way to ready: connecting, or down with a restart scheduled (not
   * given up). A call naming one of its tools before its catalog has them is worth retrying.
   */
  get starting(): boolean {
    if (!this.#options.enabled() || this.#stopped) return false;
    return this.#state === 'connecting' || (this.#state === 'down' && !this.#gaveUp);
  }

  health(): Health {
    const health: Health = { state: this.#state, since: this.#since, restartCount: this.#restartCount };
    if (this.#transport) health.transport = this.#transport;
    if (this.#lastError !== undefined) {
      health.lastError = this.#lastError;
      health.lastErrorKind = this.#lastErrorKind ?? 'error';
    }
    if (this.#lastStderr !== undefined && this.#lastStderr.length > 0) health.lastStderr = [...this.#lastStderr];
    if (this.#latencyMs !== undefined) health.latencyMs = this.#latencyMs;
    if (this.#server) health.server = this.#server;
    if (this.#protocolVersion) health.protocolVersion = this.#protocolVersion;
    return health;
  }

  /** The client requests may use now, or undefined when the backend is not ready for them. */
  usableClient(): Client | undefined {
    const client = this.#client;
    if (!client || this.#retired.has(client) || (this.#state !== 'ready' && this.#state !== 'degraded')) {
      return undefined;
    }
    return client;
  }

  /** Records a connection being opened, so that stop() closes it too. */
  trackConnecting(connecting: Connecting | undefined): void {
    this.#connecting = connecting;
  }

  /** Forgets a connection that finished opening (or failed to), unless another has taken its place. */
  untrackConnecting(connecting: Connecting): void {
    if (this.#connecting === connecting) this.#connecting = undefined;
  }

  /** Begins connecting in the background; never waits for the server. */
  start(): void {
    if (!this.#options.enabled()) {
      this.#setState('disabled');
      return;
    }
    this.#stopped = false;
    void this.#connect();
  }

  /** Manual restart: forget the backoff and reconnect now. */
  async restart(): Promise<void> {
    if (!this.#options.enabled()) return;
    this.#attempt = 0;
    this.#generation++;
    this.#clearTimers();
    await this.#teardown();
    this.#stopped = false;
    this.#restartCount++;
    void this.#connect();
  }

  /**
   * Whether a connection attempt of `generation` may still go on: not once the backend was stopped
   * or a newer attempt replaced it (a retry inside an attempt asks before it spawns again).
   */
  current(generation: number): boolean {
    return !this.#stopped && generation === this.#generation;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    this.#clearTimers();
    await this.#teardown();
  }

  /**
   * Whether a failed request died with its session: the server answered that the session is
   * unknown, or the request was still pending on a client a renewal has since replaced.
   */
  sessionLost(client: Client, error: unknown): boolean {
    if (isSessionGone(error)) return true;
    return this.#retired.has(client) && error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed;
  }

  /**
   * Opens a new session in place of one the server forgot, once however many calls noticed: MCP
   * Streamable HTTP, session management: on HTTP 404 to a request with a session id the client
   * MUST start a new session with a fresh initialize. The old client is closed afterwards; requests
   * still pending on it fail with ConnectionClosed and are retried by their callers.
   */
  renewSession(stale: Client): Promise<void> {
    if (this.#renewing) return this.#renewing;
    if (this.#client !== stale || this.#stopped) return Promise.resolve();
    this.#options.log.info('the server forgot our session; opening a new one');
    this.#retired.add(stale);
    this.#clearTimers();
    const renewal = (async () => {
      try {
        // On failure #connect marks the backend down and schedules a restart, as for any lost connection.
        await this.#connect();
      } finally {
        if (this.#client !== stale) {
          await stale
            .close()
            .catch((error: unknown) => this.#options.log.debug('close failed', { error: describeError(error) }));
        }
      }
    })().finally(() => {
      this.#renewing = undefined;
    });
    this.#renewing = renewal;
    return renewal;
  }

  /** The connection of `generation` closed (the client's onclose). */
  closed(generation: number): void {
    // While connecting, the failed connect() reports the cause itself (spawn error, early exit).
    if (generation !== this.#generation || this.#stopped || this.#state === 'connecting') return;
    const failure = this.#options.connectionLost();
    this.#options.log.warn('backend connection lost', { reason: failure.message });
    void this.#failed(failure);
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    this.#gaveUp = false;
    this.#setState('connecting');
    const started = this.#options.clock.now();
    try {
      const opened = await this.#options.open(generation);
      if (generation !== this.#generation) {
        await opened.client.close().catch(() => {});
        return;
      }
      this.#client = opened.client;
      this.#transport = opened.transport;
      this.#server = opened.client.getServerVersion();
      this.#protocolVersion = opened.client.getNegotiatedProtocolVersion();
      await this.#options.load(opened.client);
      if (generation !== this.#generation) return;
      // Latency is measured by pings, never by start-up (spawn, npx downloads, initialize).
      this.#latencyMs = undefined;
      this.#lastError = undefined;
      this.#lastErrorKind = undefined;
      this.#lastStderr = undefined;
      this.#pingFailures = 0;
      // Ready again: the next failure is a new incident and restarts after the base delay. A crash
      // loop that never gets here keeps backing off and counts towards maxRestarts.
      this.#attempt = 0;
      this.#setState('ready');
      this.#options.ready(opened.transport, this.#options.clock.now() - started);
      // The first ping at once, so the latency shows within a moment; then every pingIntervalMs.
      this.#schedulePing(0);
    } catch (error) {
      if (generation !== this.#generation) return;
      await this.#failed(this.#options.describeStartFailure(error));
    }
  }

  /** Marks the backend down, drops its connection and schedules a restart with backoff. */
  async #failed(failure: Failure): Promise<void> {
    const reason = this.#options.mask(failure.message);
    const generation = ++this.#generation;
    this.#clearTimers();
    this.#lastError = reason;
    this.#lastErrorKind = failure.kind;
    // What the failed run printed last, kept apart from the error (the lines are masked as they come).
    this.#lastStderr = this.#options.failedRunOutput();
    this.#setState('down');
    await this.#teardown();
    if (this.#stopped || generation !== this.#generation) return;
    const { maxRestarts, restartBaseMs, restartMaxMs } = this.#options.settings;
    if (maxRestarts > 0 && this.#attempt >= maxRestarts) {
      this.#gaveUp = true;
      this.#lastError = `${reason} (gave up after ${this.#attempt} restarts)`;
      this.#options.changed();
      return;
    }
    this.#attempt++;
    const delay = backoffDelay(this.#attempt, restartBaseMs, restartMaxMs, this.#options.random);
    this.#options.log.info('restart scheduled', { inMs: delay, attempt: this.#attempt });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopped || generation !== this.#generation) return;
      this.#restartCount++;
      void this.#connect();
    }, delay);
    this.#restartTimer.unref();
  }

  async #teardown(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (connecting) {
      // A child that has not answered initialize yet may not read stdin; the transport escalates to signals.
      await connecting.close().catch(() => {});
    }
    const client = this.#client;
    this.#client = undefined;
    // The last known catalog stays listed while the backend restarts: clients keep a stable tool list
    // and a call made meanwhile gets an error naming the backend and its state.
    if (client) {
      // The stdio transport closes stdin, then SIGTERMs, then SIGKILLs the child's process group.
      await client
        .close()
        .catch((error: unknown) => this.#options.log.debug('close failed', { error: describeError(error) }));
    }
    this.#options.detached();
  }

  /**
   * A request answered on the current connection shows the server alive as well as a ping does:
   * a `degraded` backend (a missed ping, say while an HTTP server restarted) is ready again at its
   * first answer, not up to a ping interval later, and its missed pings no longer count towards a
   * restart.
   */
  answered(client: Client): void {
    if (client !== this.#client || this.#retired.has(client)) return;
    this.#pingFailures = 0;
    if (this.#state !== 'degraded') return;
    this.#lastError = undefined;
    this.#lastErrorKind = undefined;
    this.#setState('ready');
  }

  #schedulePing(delay = this.#options.settings.pingIntervalMs): void {
    const generation = this.#generation;
    this.#pingTimer = setTimeout(() => void this.#ping(generation), delay);
    this.#pingTimer.unref();
  }

  async #ping(generation: number): Promise<void> {
    const client = this.#client;
    if (!client || generation !== this.#generation) return;
    const started = this.#options.clock.now();
    try {
      await ping(client, this.#options.pingTimeoutMs()).catch((error: unknown) => {
        // An error response is an answer too: the server is alive and the round trip is measured.
        // Some minimal servers answer ping with -32601 (Method not found); only silence or a lost
        // connection (the SDK's own errors, never sent by the server) count as a failed ping.
        if (error instanceof ProtocolError) return;
        throw error;
      });
      if (generation !== this.#generation) return;
      this.#latencyMs = this.#options.clock.now() - started;
      this.#pingFailures = 0;
      if (this.#state === 'degraded') {
        this.#lastError = undefined;
        this.#lastErrorKind = undefined;
        this.#setState('ready');
      } else {
        this.#options.changed();
      }
    } catch (error) {
      if (generation !== this.#generation) return;
      if (isSessionGone(error)) {
        // The server restarted and forgot us; a new session, not a count towards a restart.
        await this.renewSession(client);
        return;
      }
      this.#pingFailures++;
      this.#lastError = this.#options.mask(`ping failed: ${describeError(error)}`);
      this.#lastErrorKind = 'unresponsive';
      if (this.#pingFailures >= PING_FAILURES_BEFORE_RESTART) {
        await this.#failed({
          message: `${this.#lastError} (${this.#pingFailures} times in a row)`,
          kind: 'unresponsive',
        });
        return;
      }
      this.#setState('degraded');
    }
    if (generation === this.#generation) this.#schedulePing();
  }

  #clearTimers(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#pingTimer) clearTimeout(this.#pingTimer);
    this.#restartTimer = undefined;
    this.#pingTimer = undefined;
  }

  #setState(state: BackendState): void {
    if (state !== this.#state) {
      this.#state = state;
      this.#since = this.#options.clock.now();
    }
    this.#options.changed();
  }
}

/**
 * A round trip that shows the server alive. 2026-07-28 has no `ping` (the SDK refuses to send it
 * on such a connection); `server/discover` is the cheapest request every such server answers.
 */
function ping(client: Client, timeout: number): Promise<unknown> {
  return client.getProtocolEra() === 'modern' ? client.discover({ timeout }) : client.ping({ timeout });
}
