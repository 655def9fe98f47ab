import { EventEmitter } from 'node:events';
import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  type Client,
  type ClientCapabilities,
  type LoggingLevel,
  type LoggingMessageNotification,
  type Progress,
  type RequestOptions,
  type ServerCapabilities,
  type Transport,
} from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { GatewaySettings, NamedBackendConfig } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import { maskingLogger, type Logger } from '../shared/logger.js';
import { RingBuffer } from '../shared/ring-buffer.js';
import type { SecretStore } from '../store/secrets.js';
import type { CallContext } from './call-context.js';
import { CatalogSync } from './catalog-sync.js';
import type { ChildRegistry } from './child-registry.js';
import { connectHttp } from './connectors/http.js';
import { connectStdio, describeExit, exitStatusReader, type ExitStatus } from './connectors/stdio.js';
import { createNodeFetch, type NodeFetch } from './node-fetch.js';
import {
  acceptTaskHandles,
  connectWithin,
  createBackendClient,
  EraMemory,
  endedDuringProbe,
  keepListening,
  ResourceSubscriptions,
  TASKS_EXTENSION,
  taskEraOf,
  type EraPlan,
  type TaskEra,
} from './protocol-era.js';
import { createdTask, LiveTasks, TaskListen, taskWord } from './live-tasks.js';
import { Relay } from './relay.js';
import { translateRequestError, unavailableError, type RequestContext } from './request-errors.js';
import { startFailure } from './start-failure.js';
import { StdioTransport } from './stdio-transport.js';
import { Supervisor, type Connection } from './supervisor.js';
import type { BackendCatalog, BackendState, BackendStatus } from './types.js';

export interface BackendOptions {
  config: NamedBackendConfig;
  settings: Pick<GatewaySettings, 'pingIntervalMs' | 'restartBaseMs' | 'restartMaxMs' | 'maxRestarts'>;
  logger: Logger;
  clock: Clock;
  clientInfo: { name: string; version: string };
  random?: () => number;
  platform?: NodeJS.Platform;
  home?: string;
  parentEnv?: NodeJS.ProcessEnv;
  /** Where `${secret:…}` references in env and headers resolve; resolved at each connect, never kept. */
  secrets?: SecretStore;
  /** Where running stdio children are recorded, so a crashed gateway's are stopped at the next start. */
  children?: ChildRegistry;
  /** The gateway's data folder: a stdio backend starts in `<dataDir>/servers/<id>/` (see working-dir.ts). */
  dataDir?: string;
  /** Folder of the config file, which a relative `cwd` is read from. */
  configDir?: string;
  /** Set on the instance a `per-client` backend runs for one OAuth client: the client's id. */
  instanceFor?: string;
  /**
   * How long a client's own instance of a `per-client` backend stays up with no call and no live
   * task of that client. Default: CLIENT_INSTANCE_IDLE_MS.
   */
  instanceIdleMs?: number;
}

/**
 * What every backend of one gateway is given besides its own entry and settings, the same whether
 * the pool runs it or a probe tries it once before it is saved.
 */
export type SharedBackendOptions = Pick<
  BackendOptions,
  'logger' | 'clock' | 'clientInfo' | 'random' | 'parentEnv' | 'secrets' | 'children' | 'dataDir' | 'configDir'
>;

export interface BackendEvents {
  state: [BackendStatus];
  catalog: [BackendCatalog];
  log: [LoggingMessageNotification['params']];
  'resource-updated': [string];
  /**
   * A task status notification (2025-11-25 `notifications/tasks/status`, 2026-07-28
   * `notifications/tasks`): the task as the backend sent it, under its own id, and which instance
   * sent it (a `per-client` backend's client id; empty for the shared one).
   */
  'task-status': [task: Record<string, unknown>, instance: string];
}

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
  /**
   * The client call this request serves: what the backend asks while it runs (sampling,
   * elicitation, roots) is put to that client through it. Without one, such requests are refused.
   */
  context?: CallContext;
  /**
   * The OAuth client id of the caller: a backend configured with `instances: "per-client"` sends
   * the request to that client's own instance. Without one, the shared instance serves it.
   */
  client?: string;
  /**
   * The least severe level of log messages the caller wants while this request runs. A
   * 2026-07-28 backend sends log messages for a request only when it names a level (basic/index,
   * request `_meta` `io.modelcontextprotocol/logLevel`), so it is named there; a 2025 one logs at
   * its session's level, whoever calls, and is not told.
   */
  logLevel?: LoggingLevel;
  /**
   * The caller declared the Tasks extension (2026-07-28): this request declares it to the backend
   * too, which may then answer a tools/call with a task handle. Ignored on a 2025 connection.
   */
  tasks?: boolean;
}

/** One client's instance of a `per-client` backend, while it is used. */
interface ClientInstance {
  backend: Backend;
  /** Settles when the instance is ready, or has given up, or its start-up time ran out. */
  started: Promise<void>;
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * How long a client's own instance of a `per-client` backend stays up with no call: long enough
 * for a conversation's pauses, short enough that a client gone for the day does not keep a process.
 */
export const CLIENT_INSTANCE_IDLE_MS = 10 * 60_000;

/** Results are relayed, not interpreted: parse only the JSON-RPC envelope's object shape. */
const passthroughResult = z.looseObject({});

/** How long a new task's handle waits for the backend's listen stream naming it (live-tasks.ts). */
const TASK_LISTEN_WAIT_MS = 2_000;

/** A task status notification's params: relayed as they came, once they name a task. */
const TaskStatusParams = z.looseObject({ taskId: z.string() });

/**
 * What the gateway declares to every backend: what a backend may ask is relayed to the client
 * whose call caused it (relay.ts). Declared for every backend, since the gateway cannot know at
 * initialize which clients will call: a client that lacks one is refused at the time of asking,
 * with the reason.
 */
const BACKEND_CAPABILITIES: ClientCapabilities = Object.freeze({
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: false },
});

/**
 * A 2026-07-28 request's params declaring the Tasks extension besides the gateway's capabilities:
 * the SDK lets a request's own envelope key take precedence over the one it attaches.
 */
function withTasksDeclared(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  const capabilities = { ...BACKEND_CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } };
  return { ...params, _meta: { ...meta, [CLIENT_CAPABILITIES_META_KEY]: capabilities } };
}

const STDERR_LINES = 200;
/** Stderr lines of the failed run kept beside `lastError` (the console shows them under it). */
const LAST_STDERR_LINES = 5;
/** Longest stderr line kept; a server dumping a blob on one line must not fill the buffer. */
const MAX_STDERR_LINE = 2000;

/**
 * One configured MCP server: what the rest of the gateway sees of it (status, catalog, requests).
 * It is put together from a connector (connectors/: how to reach a stdio child or a remote
 * server), a supervisor (supervisor.ts: connect, ping, restart with backoff) and a catalog sync
 * (catalog-sync.ts: the lists and their list_changed notifications) and a relay (relay.ts: what
 * the server asks of the user, put to the client whose call caused it).
 */
export class Backend extends EventEmitter<BackendEvents> {
  readonly name: string;
  readonly id: string;
  #config: NamedBackendConfig;
  readonly #options: BackendOptions;
  readonly #log: Logger;
  readonly #stderr = new RingBuffer<string>(STDERR_LINES);
  readonly #supervisor: Supervisor;
  readonly #catalog: CatalogSync;
  /** `#stderr.pushed` when the current child was spawned: its own lines follow this mark. */
  #stderrMark = 0;
  /** Reads how the current stdio child ended; set when it is spawned. */
  #exitStatus: (() => ExitStatus | undefined) | undefined;
  #pid: number | undefined;
  #fetch: NodeFetch | undefined;
  /** What the server declared at its last successful connect; kept while it reconnects. */
  #serverCapabilities: ServerCapabilities | undefined;
  #taskEra: TaskEra | undefined;
  /** The backend's era as last found (protocol-era.ts): a 2025 verdict skips the probe next time. */
  readonly #era = new EraMemory();
  /** Resource subscriptions relayed to a 2026-07-28 backend, kept on its listen stream. */
  readonly #resourceSubscriptions = new ResourceSubscriptions();
  /**
   * Masks the secrets handed to the backend at its last connect (stored ones, and credential-looking
   * values written in plain text) in every form they may be printed in: its stderr, its errors, its log lines.
   */
  #mask: (text: string) => string = (text) => text;
  /** What the backend asks of the user, relayed to the client whose call caused it (relay.ts). */
  readonly #relay: Relay;
  /** `per-client`: each OAuth client's own instance, by client id, started at its first call. */
  readonly #instances = new Map<string, ClientInstance>();
  /** The tasks this connection created that may still run (live-tasks.ts). */
  readonly #liveTasks: LiveTasks;
  /** A 2026-07-28 connection's listen stream for the status notifications of those tasks. */
  readonly #taskListen: TaskListen;

  constructor(options: BackendOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.name = options.config.name;
    this.id = options.config.id;
    this.#log = maskingLogger(options.logger.child({ backend: this.name }), (text) => this.#mask(text));
    this.#relay = new Relay({ log: this.#log, timeoutMs: () => this.config.timeoutMs });
    this.#liveTasks = new LiveTasks(() => options.clock.now());
    this.#taskListen = new TaskListen(this.#liveTasks, {
      timeoutMs: () => this.config.timeoutMs,
      failed: (error) => this.#log.debug('could not listen for task status', { error: describeError(error) }),
    });
    this.#liveTasks.onchange = () => this.#taskListen.changed();
    this.#catalog = new CatalogSync({
      log: this.#log,
      timeoutMs: () => this.config.timeoutMs,
      client: () => this.#supervisor.client,
      changed: (catalog) => {
        this.emit('catalog', catalog);
        this.emit('state', this.status());
      },
    });
    this.#supervisor = new Supervisor({
      settings: options.settings,
      clock: options.clock,
      random: options.random,
      log: this.#log,
      enabled: () => this.config.enabled,
      pingTimeoutMs: () => Math.min(this.config.timeoutMs, 10_000),
      open: (generation) => this.#open(generation),
      load: async (client) => {
        this.#serverCapabilities = client.getServerCapabilities();
        this.#taskEra = taskEraOf(client);
        // 2026-07-28: list_changed arrives on a subscriptions/listen stream, opened before the
        // lists are read so no change between the two is missed.
        await keepListening(client, {
          timeoutMs: this.config.startupTimeoutMs,
          current: () => this.#supervisor.client === client,
          reopened: () => {
            for (const kind of ['tools', 'prompts', 'resources'] as const) void this.#catalog.refresh(kind);
          },
          failed: (error) => this.#log.warn('could not listen for list changes again', { error: describeError(error) }),
        });
        await this.#resourceSubscriptions.resume(client, this.config.startupTimeoutMs);
        // A new connection: the tasks of the previous one are not counted on (a restarted server
        // does not know them); a 2026-07-28 one is listened to for the tasks it creates from now.
        this.#liveTasks.clear();
        this.#taskListen.resume(client);
        await this.#catalog.load(client);
        this.#era.connected(client.getNegotiatedProtocolVersion());
      },
      describeStartFailure: (error) => {
        this.#era.forget();
        return startFailure(error, {
          type: this.config.type,
          command: this.config.type === 'stdio' ? this.config.command : undefined,
          startupTimeoutMs: this.config.startupTimeoutMs,
          exit: this.#exitStatus?.(),
        });
      },
      connectionLost: () =>
        this.config.type === 'stdio'
          ? { message: describeExit(this.#exitStatus?.()), kind: 'exited' }
          : { message: 'connection closed', kind: 'connection' },
      failedRunOutput: () =>
        this.config.type === 'stdio' ? this.#stderr.since(this.#stderrMark).slice(-LAST_STDERR_LINES) : undefined,
      mask: (text) => this.#mask(text),
      changed: () => this.emit('state', this.status()),
      ready: (transport, ms) => {
        this.emit('catalog', this.#catalog.catalog);
        this.#log.info('backend ready', { transport, tools: this.#catalog.catalog.tools.length, ms });
      },
      detached: () => {
        this.#pid = undefined;
      },
    });
  }

  get config(): NamedBackendConfig {
    return this.#config;
  }

  /**
   * Applies new per-tool overrides (enable, read/write) without reconnecting: they only change how
   * the catalog is federated, so the child and its sessions stay as they are.
   */
  setToolOverrides(tools: NamedBackendConfig['tools']): void {
    this.#config = { ...this.#config, tools };
    this.emit('catalog', this.#catalog.catalog);
    // The tool count shown counts only tools left on.
    this.emit('state', this.status());
  }

  /**
   * The capabilities the server declared when it last connected (undefined if it never has), for
   * the capabilities the gateway declares to its clients (federation/capabilities.ts).
   */
  get serverCapabilities(): ServerCapabilities | undefined {
    return this.#serverCapabilities;
  }

  /** Which tasks the server runs tools/call as, as found when it last connected (protocol-era.ts). */
  get taskEra(): TaskEra | undefined {
    return this.#taskEra;
  }

  get state(): BackendState {
    return this.#supervisor.state;
  }

  get catalog(): BackendCatalog {
    return this.#catalog.catalog;
  }

  /**
   * Whether the backend is on its way to ready: connecting, or down with a restart scheduled (not
   * given up). A call naming one of its tools before its catalog has them is worth retrying.
   */
  get starting(): boolean {
    return this.#supervisor.starting;
  }

  /** Recent stderr lines of a stdio backend, oldest first. */
  stderrLines(): string[] {
    return this.#stderr.toArray();
  }

  status(): BackendStatus {
    const catalog = this.#catalog.catalog;
    const { state, since, restartCount, ...health } = this.#supervisor.health();
    const status: BackendStatus = {
      name: this.name,
      id: this.id,
      kind: this.config.type,
      state,
      since,
      restartCount,
      // What clients can be given: the owner's turned-off tools are not counted.
      toolCount: catalog.tools.filter((tool) => this.config.tools[tool.name]?.enabled !== false).length,
      promptCount: catalog.prompts.length,
      resourceCount: catalog.resources.length,
      ...health,
    };
    if (this.#pid !== undefined) status.pid = this.#pid;
    if (this.config.instances === 'per-client' && !this.#options.instanceFor) {
      status.clientInstances = this.#instances.size;
    }
    return status;
  }

  /** Begins connecting in the background; never waits for the server. */
  start(): void {
    this.#supervisor.start();
  }

  /** Manual restart: forget the backoff and reconnect now. */
  async restart(): Promise<void> {
    // Clients' own instances start again at their next call, from the new process or session.
    await this.#stopInstances();
    // The owner may have upgraded the server: find its era again.
    this.#era.forget();
    await this.#supervisor.restart();
  }

  async stop(): Promise<void> {
    this.#taskListen.close();
    this.#liveTasks.clear();
    await this.#stopInstances();
    await this.#supervisor.stop();
    this.#fetch?.close();
    this.#fetch = undefined;
    this.#catalog.clear();
    this.emit('catalog', this.#catalog.catalog);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Sends one request to the backend, translating transport failures into errors that name it.
   * When a Streamable HTTP server has forgotten our session (it restarted), a new session is opened
   * and the request sent once more: the server refused it unread, so sending it again is safe.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    if (options.client !== undefined && this.config.instances === 'per-client' && !this.#options.instanceFor) {
      return this.#requestOnInstance(options.client, method, params, options);
    }
    const renewing = this.#supervisor.renewing;
    if (renewing) await renewing;
    const client = this.#usableClient(method);
    if (ResourceSubscriptions.handles(client, method) && typeof params?.uri === 'string') {
      return this.#resourceSubscriptions.apply(client, method, params.uri, this.config.timeoutMs);
    }
    try {
      return await this.#send(client, method, params, options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (!this.#supervisor.sessionLost(client, error)) {
        throw translateRequestError(error, this.#requestContext(method));
      }
      await this.#supervisor.renewSession(client);
      const renewed = this.#usableClient(method);
      try {
        return await this.#send(renewed, method, params, options);
      } catch (retryError) {
        if (options.signal?.aborted) throw retryError;
        throw translateRequestError(retryError, this.#requestContext(method));
      }
    }
  }

  /**
   * `per-client`: the request goes to the caller's own instance, started at its first call and
   * stopped after CLIENT_INSTANCE_IDLE_MS without one. Each instance has one client, so what the
   * backend asks is always that client's to answer, whatever the transport (stdio cannot say which
   * call a request belongs to), and what the server remembers between calls (roots, state) stays
   * that client's. The shared instance still lists the catalog and serves clientless requests.
   */
  async #requestOnInstance(
    client: string,
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    let instance = this.#instances.get(client);
    if (!instance) {
      const backend = new Backend({
        ...this.#options,
        config: this.config,
        logger: this.#options.logger.child({ client }),
        instanceFor: client,
      });
      instance = { backend, started: started(backend, this.config.startupTimeoutMs), active: 0, idleTimer: undefined };
      this.#instances.set(client, instance);
      // Its log messages reach clients as the shared instance's do; its catalog is the shared one's.
      backend.on('log', (params) => this.emit('log', params));
      backend.on('task-status', (task, instance) => this.emit('task-status', task, instance));
      this.#log.info('starting an instance for a client', { client });
      backend.start();
      this.emit('state', this.status());
    }
    clearTimeout(instance.idleTimer);
    instance.active++;
    try {
      await instance.started;
      const { client: _client, ...rest } = options;
      return await instance.backend.request(method, params, rest);
    } finally {
      if (--instance.active === 0 && this.#instances.get(client) === instance) {
        const idle = instance;
        const idleMs = this.#options.instanceIdleMs ?? CLIENT_INSTANCE_IDLE_MS;
        // A task the client's instance runs for it counts as activity: stopping the instance
        // would lose the task (it lives in that process or session), so the instance stays while
        // one is live, looked at again every idleMs, and at most until the last one's TTL.
        const stopWhenIdle = () => {
          if (idle.active > 0 || this.#instances.get(client) !== idle) return;
          const holding = idle.backend.#liveTasks.liveUntil();
          const now = this.#options.clock.now();
          if (holding !== undefined && holding > now) {
            idle.idleTimer = setTimeout(stopWhenIdle, Math.min(holding - now, idleMs));
            idle.idleTimer.unref();
            return;
          }
          this.#instances.delete(client);
          this.#log.info('stopping the idle instance of a client', { client });
          void idle.backend.stop();
          this.emit('state', this.status());
        };
        idle.idleTimer = setTimeout(stopWhenIdle, idleMs);
        idle.idleTimer.unref();
      }
    }
  }

  async #stopInstances(): Promise<void> {
    const instances = [...this.#instances.values()];
    this.#instances.clear();
    if (instances.length > 0) this.emit('state', this.status());
    for (const instance of instances) clearTimeout(instance.idleTimer);
    await Promise.allSettled(instances.map((instance) => instance.backend.stop()));
  }

  /** Sends a notification (e.g. a cancellation the client relayed) if connected; drops it otherwise. */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.#supervisor.client?.notification(params === undefined ? { method } : { method, params }).catch(() => {});
  }

  /** Text about this backend with the secret values it was last started with masked (for clients' eyes). */
  maskSecrets(text: string): string {
    return this.#mask(text);
  }

  #usableClient(method: string): Client {
    const client = this.#supervisor.usableClient();
    if (!client) throw unavailableError(this.#requestContext(method));
    return client;
  }

  #send(
    client: Client,
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    const requestOptions: RequestOptions = { timeout: this.config.timeoutMs, resetTimeoutOnProgress: true };
    if (options.signal) requestOptions.signal = options.signal;
    if (options.onprogress) requestOptions.onprogress = options.onprogress;
    // A 2026-07-28 backend's input_required comes back to the relay, which runs the rounds.
    requestOptions.allowInputRequired = true;
    if (options.tasks && client.getProtocolEra() === 'modern') params = withTasksDeclared(params);
    if (options.logLevel !== undefined && client.getProtocolEra() === 'modern') {
      params = {
        ...params,
        _meta: { ...(params?._meta as object | undefined), [LOG_LEVEL_META_KEY]: options.logLevel },
      };
    }
    const pending = this.#relay.run(
      client,
      method,
      params,
      { context: options.context, signal: options.signal },
      (leg) =>
        client.request(
          leg === undefined ? { method } : { method, params: leg },
          passthroughResult,
          requestOptions,
        ) as Promise<Record<string, unknown>>,
    );
    pending.then(
      (result) => {
        this.#supervisor.answered(client);
        this.#noteTasks(client, method, params, result);
      },
      () => undefined,
    );
    const modern = client.getProtocolEra() === 'modern';
    const mayCreate = method === 'tools/call' && (modern ? options.tasks === true : params?.task !== undefined);
    if (!mayCreate) return pending;
    return pending.then(async (result) => {
      const created = createdTask(modern, result);
      if (created) {
        this.#liveTasks.saw(created, true);
        // The caller gets the handle once a 2026-07-28 backend is asked for the task's status,
        // so no change between the two is missed; bounded, as a server may not answer the listen.
        await this.#taskListen.settled(TASK_LISTEN_WAIT_MS);
      }
      return result;
    });
  }

  /** What an answer says of this connection's tasks (live-tasks.ts): created, changed or ended. */
  #noteTasks(
    client: Client,
    method: string,
    params: Record<string, unknown> | undefined,
    result: Record<string, unknown>,
  ): void {
    const modern = client.getProtocolEra() === 'modern';
    if (method === 'tasks/get' || method === 'tasks/cancel') {
      const word = taskWord(modern, result);
      if (word) this.#liveTasks.saw(word);
    } else if (method === 'tasks/result' && typeof params?.taskId === 'string') {
      // 2025-11-25: tasks/result answers once the task is terminal.
      this.#liveTasks.saw({ taskId: params.taskId, status: 'completed', ttl: undefined });
    }
  }

  /** A backend's task status notification: noted, and passed on under the backend's own task id. */
  #taskStatus(modern: boolean, params: Record<string, unknown>): void {
    const word = taskWord(modern, params);
    if (!word) return;
    this.#liveTasks.saw(word);
    // The subscription id names the gateway's own listen stream at the backend, nobody else's.
    const { _meta: meta, ...task } = params;
    const { [SUBSCRIPTION_ID_META_KEY]: _subscription, ...rest } = (meta ?? {}) as Record<string, unknown>;
    this.emit(
      'task-status',
      Object.keys(rest).length > 0 ? { ...task, _meta: rest } : task,
      this.#options.instanceFor ?? '',
    );
  }

  /** Connects with the connector of the backend's type (the supervisor's `open`). */
  async #open(generation: number): Promise<Connection> {
    const config = this.config;
    const useMask = (mask: (text: string) => string) => {
      this.#mask = mask;
    };
    if (config.type === 'stdio') {
      const transport = await connectStdio(config, {
        name: this.name,
        log: this.#log,
        secrets: this.#options.secrets,
        children: this.#options.children,
        dataDir: this.#options.dataDir,
        configDir: this.#options.configDir,
        home: this.#options.home,
        platform: this.#options.platform,
        parentEnv: this.#options.parentEnv,
        useMask,
        onStderrLine: (line) => this.#stderrLine(line),
      });
      this.#stderrMark = this.#stderr.pushed;
      try {
        return { client: await this.#initialize(transport, generation, 'negotiate'), transport: 'stdio' };
      } catch (error) {
        // Stopped (or superseded) while probing: the probe ended because its connection was
        // closed, and starting the server again now would leave a child nobody stops.
        if (!endedDuringProbe(error) || !this.#supervisor.current(generation)) throw error;
        // A 2025 server that exits on a request before initialize: start it again and initialize.
        this.#log.info('the server ended on the server/discover probe; starting it again as a 2025-era server');
        this.#era.markLegacy();
        return this.#open(generation);
      }
    }
    const opened = await connectHttp(config, {
      log: this.#log,
      secrets: this.#options.secrets,
      fetch: () => (this.#fetch ??= createNodeFetch()),
      useMask,
      initialize: (transport, era) => this.#initialize(transport, generation, era),
    });
    return { client: opened.client, transport: opened.kind };
  }

  #stderrLine(line: string): void {
    // A server that prints its own token must not put it in the console or the log.
    const safe = this.#mask(line);
    this.#stderr.push(safe.length > MAX_STDERR_LINE ? safe.slice(0, MAX_STDERR_LINE) + '…' : safe);
    this.#log.debug('stderr', { line: safe });
  }

  /**
   * An SDK client over the transport, connected in the backend's era (protocol-era.ts: `negotiate`
   * probes with server/discover unless a 2025 verdict is remembered), with the server's
   * notifications wired, and what it may ask relayed to the client whose call caused it.
   */
  async #initialize(transport: Transport, generation: number, era: EraPlan): Promise<Client> {
    const known = era === 'negotiate' ? this.#era.next() : { plan: era };
    // What a backend may ask is relayed to the client whose call caused it (relay.ts). Declared for
    // every backend, since the gateway cannot know at initialize which clients will call: a client
    // that lacks one is refused at the time of asking, with the reason. A 2026-07-28 backend's
    // input_required rounds go through the same relay (#send: Relay.run).
    const client = createBackendClient(this.#options.clientInfo, {
      capabilities: BACKEND_CAPABILITIES,
      plan: known.plan,
      stdio: transport instanceof StdioTransport,
      startupTimeoutMs: this.config.startupTimeoutMs,
    });
    acceptTaskHandles(client);
    this.#relay.register(client);
    client.onclose = () => this.#supervisor.closed(generation);
    client.onerror = (error) => this.#log.debug('transport error', { error: describeError(error) });
    client.setNotificationHandler('notifications/tools/list_changed', () => this.#catalog.refresh('tools'));
    client.setNotificationHandler('notifications/prompts/list_changed', () => this.#catalog.refresh('prompts'));
    client.setNotificationHandler('notifications/resources/list_changed', () => this.#catalog.refresh('resources'));
    client.setNotificationHandler('notifications/message', (n) => {
      this.emit('log', n.params as LoggingMessageNotification['params']);
    });
    client.setNotificationHandler('notifications/elicitation/complete', (n) => {
      this.#relay.elicitationCompleted(n.params.elicitationId);
    });
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      this.emit('resource-updated', n.params.uri);
    });
    // Task status: 2025-11-25 core on the session, 2026-07-28 ext-tasks on a listen stream (live-tasks.ts).
    client.setNotificationHandler('notifications/tasks/status', { params: TaskStatusParams }, (params) =>
      this.#taskStatus(false, params),
    );
    client.setNotificationHandler('notifications/tasks', { params: TaskStatusParams }, (params) =>
      this.#taskStatus(true, params),
    );
    // Until the probe is over the client does not own the transport: stop() closes both.
    const connectingHandle = { close: () => Promise.all([client.close(), transport.close()]) };
    this.#supervisor.trackConnecting(connectingHandle);
    const connecting = connectWithin(
      client,
      transport,
      this.config.startupTimeoutMs,
      'prior' in known ? { prior: known.prior } : {},
    );
    if (transport instanceof StdioTransport) {
      // The pid exists once spawn() has run, which connect() does synchronously first.
      this.#pid = transport.pid;
      this.#exitStatus = exitStatusReader(transport);
    }
    try {
      await connecting;
    } finally {
      this.#supervisor.untrackConnecting(connectingHandle);
    }
    if (transport instanceof StdioTransport) this.#pid = transport.pid;
    deferResponses(transport);
    this.#relay.track(transport);
    return client;
  }

  #requestContext(method: string): RequestContext {
    return {
      backend: this.name,
      method,
      state: this.#supervisor.state,
      lastError: this.#supervisor.lastError,
      timeoutMs: this.config.timeoutMs,
      mask: this.#mask,
    };
  }
}

/** Settles once `backend` is ready, or no longer on its way there, or after `timeoutMs`. */
function started(backend: Backend, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (backend.state !== 'ready' && backend.state !== 'degraded' && backend.starting) return;
      done();
    };
    const timer = setTimeout(() => done(), timeoutMs);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      backend.off('state', check);
      resolve();
    };
    backend.on('state', check);
  });
}

/**
 * The SDK client runs notification handlers a microtask late but settles a response at once, and
 * drops a request's progress handler when its response settles. When progress and the response
 * arrive together (one read from the pipe or socket), the last progress notifications would be
 * lost. Delivering each response one microtask later keeps the order the server sent.
 */
function deferResponses(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    if ('id' in message && ('result' in message || 'error' in message)) {
      queueMicrotask(() => deliver(message, extra));
    } else {
      deliver(message, extra);
    }
  };
}
