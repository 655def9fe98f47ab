import { EventEmitter } from 'node:events';
import { homedir } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type LoggingMessageNotification,
  type Progress,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { GatewaySettings, NamedBackendConfig } from '../config/schema.js';
import { plainSecretValues, resolveSecretRefs } from '../config/secret-refs.js';
import type { Clock } from '../shared/clock.js';
import { describeError, GatewayError } from '../shared/errors.js';
import { maskingLogger, type Logger } from '../shared/logger.js';
import { createSecretMasker } from '../shared/redact.js';
import { RingBuffer } from '../shared/ring-buffer.js';
import type { SecretStore } from '../store/secrets.js';
import { backoffDelay } from './backoff.js';
import type { ChildRegistry } from './child-registry.js';
import { childEnvironment, resolveCommand } from './environment.js';
import { HttpStatusError, NodeStreamableHttpClientTransport } from './http-client-transport.js';
import { createNodeFetch, type NodeFetch } from './node-fetch.js';
import { StdioTransport } from './stdio-transport.js';
import {
  EMPTY_CATALOG,
  type BackendCatalog,
  type BackendErrorKind,
  type BackendState,
  type BackendStatus,
} from './types.js';
import { backendWorkingDir } from './working-dir.js';

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
}

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
}

/** Results are relayed, not interpreted: parse only the JSON-RPC envelope's object shape. */
const passthroughResult = z.looseObject({});

/** Consecutive failed pings before a connected backend is torn down and restarted. */
const PING_FAILURES_BEFORE_RESTART = 3;
const MAX_LIST_PAGES = 1000;
const STDERR_LINES = 200;
/** Stderr lines of the failed run kept beside `lastError` (the console shows them under it). */
const LAST_STDERR_LINES = 5;

/** How a stdio child ended: an exit code, or the signal that killed it. */
interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One configured MCP server, connected through the SDK client and supervised: it reconnects (or
 * respawns) with backoff when it dies, pings while ready, and keeps a catalog that follows the
 * server's list_changed notifications.
 */
export class Backend extends EventEmitter<BackendEvents> {
  readonly name: string;
  readonly id: string;
  #config: NamedBackendConfig;
  readonly #options: BackendOptions;
  readonly #log: Logger;
  readonly #stderr = new RingBuffer<string>(STDERR_LINES);

  #client: Client | undefined;
  /** A client still connecting (spawned, not yet initialized): stop() must close it too. */
  #connecting: Client | undefined;
  #transportKind: BackendStatus['transport'];
  #state: BackendState;
  #since: number;
  #lastError: string | undefined;
  /** What kind of failure `#lastError` is, recorded with it where it happened. */
  #lastErrorKind: BackendErrorKind | undefined;
  /** The last stderr lines of the run that failed with `#lastError` (stdio only). */
  #lastStderr: string[] | undefined;
  /** `#stderr.pushed` when the current child was spawned: its own lines follow this mark. */
  #stderrMark = 0;
  /** Reads how the current stdio child ended; set when it is spawned. */
  #exitStatus: (() => ExitStatus | undefined) | undefined;
  /** Round-trip of the last successful ping: never start-up time. */
  #latencyMs: number | undefined;
  #restartCount = 0;
  /** Restarts since the backend was last ready: the backoff exponent. */
  #attempt = 0;
  #pingFailures = 0;
  /** maxRestarts reached: down until restarted by hand. */
  #gaveUp = false;
  /** A new session being opened after the server forgot ours; calls wait for it. */
  #renewing: Promise<void> | undefined;
  /** Clients replaced by a session renewal: their failed calls are retried on the new one. */
  readonly #retired = new WeakSet<Client>();
  /** Optional list methods the server does not implement, logged once each. */
  readonly #missingMethods = new Set<string>();
  #catalog: BackendCatalog = EMPTY_CATALOG;
  #server: BackendStatus['server'];
  #pid: number | undefined;
  #generation = 0;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #fetch: NodeFetch | undefined;
  /**
   * Masks the secrets handed to the backend at its last connect (stored ones, and credential-looking
   * values written in plain text) in every form they may be printed in: its stderr, its errors, its log lines.
   */
  #mask: (text: string) => string = (text) => text;
  #refreshing = new Map<keyof BackendCatalog, Promise<void>>();
  #refreshAgain = new Set<keyof BackendCatalog>();

  constructor(options: BackendOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.name = options.config.name;
    this.id = options.config.id;
    this.#log = maskingLogger(options.logger.child({ backend: this.name }), (text) => this.#mask(text));
    this.#state = options.config.enabled ? 'connecting' : 'disabled';
    this.#since = options.clock.now();
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
    this.emit('catalog', this.#catalog);
    // The tool count shown counts only tools left on.
    this.emit('state', this.status());
  }

  get state(): BackendState {
    return this.#state;
  }

  get catalog(): BackendCatalog {
    return this.#catalog;
  }

  /**
   * Whether the backend is on its way to ready: connecting, or down with a restart scheduled (not
   * given up). A call naming one of its tools before its catalog has them is worth retrying.
   */
  get starting(): boolean {
    if (!this.config.enabled || this.#stopped) return false;
    return this.#state === 'connecting' || (this.#state === 'down' && !this.#gaveUp);
  }

  /** Recent stderr lines of a stdio backend, oldest first. */
  stderrLines(): string[] {
    return this.#stderr.toArray();
  }

  status(): BackendStatus {
    const status: BackendStatus = {
      name: this.name,
      id: this.id,
      kind: this.config.type,
      state: this.#state,
      since: this.#since,
      restartCount: this.#restartCount,
      // What clients can be given: the owner's turned-off tools are not counted.
      toolCount: this.#catalog.tools.filter((tool) => this.config.tools[tool.name]?.enabled !== false).length,
      promptCount: this.#catalog.prompts.length,
      resourceCount: this.#catalog.resources.length,
    };
    if (this.#transportKind) status.transport = this.#transportKind;
    if (this.#lastError !== undefined) {
      status.lastError = this.#lastError;
      status.lastErrorKind = this.#lastErrorKind ?? 'error';
    }
    if (this.#lastStderr !== undefined && this.#lastStderr.length > 0) status.lastStderr = [...this.#lastStderr];
    if (this.#latencyMs !== undefined) status.latencyMs = this.#latencyMs;
    if (this.#pid !== undefined) status.pid = this.#pid;
    if (this.#server) status.server = this.#server;
    return status;
  }

  /** Begins connecting in the background; never waits for the server. */
  start(): void {
    if (!this.config.enabled) {
      this.#setState('disabled');
      return;
    }
    this.#stopped = false;
    void this.#connect();
  }

  /** Manual restart: forget the backoff and reconnect now. */
  async restart(): Promise<void> {
    if (!this.config.enabled) return;
    this.#attempt = 0;
    this.#generation++;
    this.#clearTimers();
    await this.#teardown();
    this.#stopped = false;
    this.#restartCount++;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    this.#clearTimers();
    await this.#teardown();
    this.#fetch?.close();
    this.#fetch = undefined;
    this.#catalog = EMPTY_CATALOG;
    this.emit('catalog', this.#catalog);
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
    if (this.#renewing) await this.#renewing;
    const client = this.#usableClient(method);
    try {
      return await this.#send(client, method, params, options);
    } catch (error) {
      if (options.signal?.aborted || !this.#sessionLost(client, error)) {
        throw this.#translate(error, method, options.signal);
      }
      await this.#renewSession(client);
      const renewed = this.#usableClient(method);
      try {
        return await this.#send(renewed, method, params, options);
      } catch (retryError) {
        throw this.#translate(retryError, method, options.signal);
      }
    }
  }

  #usableClient(method: string): Client {
    const client = this.#client;
    if (!client || this.#retired.has(client) || (this.#state !== 'ready' && this.#state !== 'degraded')) {
      throw this.#unavailable(method);
    }
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
    const request = params === undefined ? { method } : { method, params };
    return client.request(request, passthroughResult, requestOptions);
  }

  /**
   * Whether a failed request died with its session: the server answered that the session is
   * unknown, or the request was still pending on a client a renewal has since replaced.
   */
  #sessionLost(client: Client, error: unknown): boolean {
    if (isSessionGone(error)) return true;
    return this.#retired.has(client) && error instanceof McpError && error.code === ErrorCode.ConnectionClosed;
  }

  /**
   * Opens a new session in place of one the server forgot, once however many calls noticed: MCP
   * Streamable HTTP, session management: on HTTP 404 to a request with a session id the client
   * MUST start a new session with a fresh initialize. The old client is closed afterwards; requests
   * still pending on it fail with ConnectionClosed and are retried by their callers.
   */
  #renewSession(stale: Client): Promise<void> {
    if (this.#renewing) return this.#renewing;
    if (this.#client !== stale || this.#stopped) return Promise.resolve();
    this.#log.info('the server forgot our session; opening a new one');
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
            .catch((error: unknown) => this.#log.debug('close failed', { error: describeError(error) }));
        }
      }
    })().finally(() => {
      this.#renewing = undefined;
    });
    this.#renewing = renewal;
    return renewal;
  }

  /** Sends a notification (e.g. a cancellation the client relayed) if connected; drops it otherwise. */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.#client?.notification(params === undefined ? { method } : { method, params }).catch(() => {});
  }

  // --- connection lifecycle -------------------------------------------------------------------

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    this.#gaveUp = false;
    this.#setState('connecting');
    const started = this.#options.clock.now();
    let client: Client | undefined;
    try {
      const opened = await this.#open(generation);
      client = opened.client;
      if (generation !== this.#generation) {
        await client.close().catch(() => {});
        return;
      }
      this.#client = client;
      this.#transportKind = opened.kind;
      this.#server = client.getServerVersion();
      this.#catalog = await this.#fetchCatalog(client);
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
      this.emit('catalog', this.#catalog);
      // The first ping at once, so the latency shows within a moment; then every pingIntervalMs.
      this.#schedulePing(0);
      this.#log.info('backend ready', {
        transport: opened.kind,
        tools: this.#catalog.tools.length,
        ms: this.#options.clock.now() - started,
      });
    } catch (error) {
      if (generation !== this.#generation) return;
      await this.#failed(this.#describeStartFailure(error), this.#startFailureKind(error));
    }
  }

  async #open(generation: number): Promise<{ client: Client; transport: Transport; kind: BackendStatus['transport'] }> {
    const config = this.config;
    if (config.type === 'stdio') {
      const found = plainSecretValues(config.env);
      const env = await resolveSecretRefs(config.env, this.#options.secrets, 'env', found);
      this.#mask = createSecretMasker(found);
      const cwd = await backendWorkingDir(config, {
        dataDir: this.#options.dataDir,
        configDir: this.#options.configDir,
        home: this.#options.home,
      });
      this.#stderrMark = this.#stderr.pushed;
      const transport = this.#stdioTransport(env, cwd);
      const client = await this.#initialize(transport, generation);
      return { client, transport, kind: 'stdio' };
    }
    const url = new URL(config.url);
    const found = plainSecretValues(config.headers);
    const headers = await resolveSecretRefs(config.headers, this.#options.secrets, 'headers', found);
    this.#mask = createSecretMasker(found);
    const sse = async () => {
      // Legacy HTTP+SSE servers are rare; the SDK's transport over our node:http fetch serves them.
      this.#fetch ??= createNodeFetch();
      const fetch = this.#fetch.fetch;
      const transport = new SSEClientTransport(url, {
        requestInit: { headers },
        fetch,
        eventSourceInit: { fetch: withHeaders(headers, fetch) },
      });
      return { client: await this.#initialize(transport, generation), transport, kind: 'sse' as const };
    };
    if (config.type === 'sse') return sse();
    try {
      const transport = new NodeStreamableHttpClientTransport(url, { headers });
      return { client: await this.#initialize(transport, generation), transport, kind: 'streamable-http' };
    } catch (error) {
      // MCP spec, backwards compatibility: a 400/404/405 to the initialize POST means an older
      // HTTP+SSE server. 401/403 are credentials problems and are reported as they are.
      if (!(error instanceof StreamableHTTPError) || ![400, 404, 405].includes(error.code ?? 0)) throw error;
      this.#log.info('streamable HTTP refused, falling back to SSE', { status: error.code });
      return sse();
    }
  }

  #stdioTransport(env: Record<string, string>, cwd: string): StdioTransport {
    const config = this.config;
    if (config.type !== 'stdio') throw new Error('unreachable');
    const platform = this.#options.platform ?? process.platform;
    const transport = new StdioTransport({
      command: resolveCommand(config.command, platform),
      args: config.args,
      env: childEnvironment(env, platform, this.#options.home ?? homedir(), this.#options.parentEnv ?? process.env),
      cwd,
      backend: this.name,
      maxMessageBytes: config.maxMessageBytes,
      logger: this.#log,
      ...(this.#options.children ? { children: this.#options.children } : {}),
    });
    let partial = '';
    transport.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = lines.pop() ?? '';
      if (partial.length > 4096) {
        lines.push(partial);
        partial = '';
      }
      for (const line of lines) {
        if (!line) continue;
        // A server that prints its own token must not put it in the console or the log.
        const safe = this.#mask(line);
        this.#stderr.push(safe.length > 2000 ? safe.slice(0, 2000) + '…' : safe);
        this.#log.debug('stderr', { line: safe });
      }
    });
    return transport;
  }

  async #initialize(transport: Transport, generation: number): Promise<Client> {
    const client = new Client(this.#options.clientInfo, { capabilities: {} });
    client.onclose = () => this.#closed(generation);
    client.onerror = (error) => this.#log.debug('transport error', { error: describeError(error) });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#refresh('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.#refresh('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.#refresh('resources'));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      this.emit('log', n.params);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      this.emit('resource-updated', n.params.uri);
    });
    this.#connecting = client;
    const connecting = client.connect(transport, { timeout: this.config.startupTimeoutMs });
    if (transport instanceof StdioTransport) {
      // The pid exists once spawn() has run, which connect() does synchronously first.
      this.#pid = transport.pid;
      this.#exitStatus = exitStatusReader(transport);
    }
    try {
      await connecting;
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    } finally {
      if (this.#connecting === client) this.#connecting = undefined;
    }
    if (transport instanceof StdioTransport) this.#pid = transport.pid;
    deferResponses(transport);
    return client;
  }

  async #fetchCatalog(client: Client): Promise<BackendCatalog> {
    const caps = client.getServerCapabilities() ?? {};
    const [tools, prompts, resources, resourceTemplates] = await Promise.all([
      caps.tools ? this.#listTools(client) : [],
      caps.prompts ? this.#listPrompts(client) : [],
      caps.resources ? this.#listResources(client) : [],
      caps.resources ? this.#listResourceTemplates(client) : [],
    ]);
    return Object.freeze({ tools, prompts, resources, resourceTemplates });
  }

  #listTools(client: Client): Promise<Tool[]> {
    return this.#listAll(client, 'tools/list', ListToolsResultSchema, (r) => r.tools);
  }
  #listPrompts(client: Client): Promise<Prompt[]> {
    return this.#listAll(client, 'prompts/list', ListPromptsResultSchema, (r) => r.prompts);
  }
  #listResources(client: Client): Promise<Resource[]> {
    return this.#listAll(client, 'resources/list', ListResourcesResultSchema, (r) => r.resources);
  }
  #listResourceTemplates(client: Client): Promise<ResourceTemplate[]> {
    return this.#listAll(
      client,
      'resources/templates/list',
      ListResourceTemplatesResultSchema,
      (r) => r.resourceTemplates,
    );
  }

  /**
   * Follows `nextCursor` to the end, so a paginating backend is seen whole. A list method the
   * server does not implement (JSON-RPC -32601, Method not found) counts as an empty list: many
   * servers declare `resources` but have no templates, or declare a capability they never filled.
   * Failing the backend over it would restart it forever and hide the tools it does have.
   */
  async #listAll<R extends { nextCursor?: string | undefined }, T>(
    client: Client,
    method: string,
    schema: z.ZodType<R>,
    items: (result: R) => T[],
  ): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let result: R;
      try {
        result = (await client.request({ method, params: cursor === undefined ? {} : { cursor } }, schema as never, {
          timeout: this.config.timeoutMs,
        })) as R;
      } catch (error) {
        if (!(error instanceof McpError) || error.code !== ErrorCode.MethodNotFound) throw error;
        if (!this.#missingMethods.has(method)) {
          this.#missingMethods.add(method);
          this.#log.debug('optional list method not implemented; counted as empty', { method });
        }
        return all;
      }
      all.push(...items(result));
      if (!result.nextCursor || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
    return all;
  }

  /** Re-fetches one list after the backend said it changed; coalesces bursts of notifications. */
  #refresh(kind: 'tools' | 'prompts' | 'resources'): Promise<void> {
    const running = this.#refreshing.get(kind);
    if (running) {
      this.#refreshAgain.add(kind);
      return running;
    }
    const run = (async () => {
      do {
        this.#refreshAgain.delete(kind);
        const client = this.#client;
        if (!client) return;
        try {
          if (kind === 'tools') {
            const tools = await this.#listTools(client);
            this.#catalog = Object.freeze({ ...this.#catalog, tools });
          } else if (kind === 'prompts') {
            const prompts = await this.#listPrompts(client);
            this.#catalog = Object.freeze({ ...this.#catalog, prompts });
          } else {
            const [resources, resourceTemplates] = await Promise.all([
              this.#listResources(client),
              this.#listResourceTemplates(client),
            ]);
            this.#catalog = Object.freeze({ ...this.#catalog, resources, resourceTemplates });
          }
        } catch (error) {
          this.#log.warn('could not refresh catalog', { kind, error: describeError(error) });
          return;
        }
        this.emit('catalog', this.#catalog);
        this.emit('state', this.status());
      } while (this.#refreshAgain.has(kind));
    })().finally(() => this.#refreshing.delete(kind));
    this.#refreshing.set(kind, run);
    return run;
  }

  #closed(generation: number): void {
    // While connecting, the failed connect() reports the cause itself (spawn error, early exit).
    if (generation !== this.#generation || this.#stopped || this.#state === 'connecting') return;
    const stdio = this.config.type === 'stdio';
    const reason = stdio ? describeExit(this.#exitStatus?.()) : 'connection closed';
    this.#log.warn('backend connection lost', { reason });
    void this.#failed(reason, stdio ? 'exited' : 'connection');
  }

  /** Text about this backend with the secret values it was last started with masked (for clients' eyes). */
  maskSecrets(text: string): string {
    return this.#mask(text);
  }

  /** Marks the backend down, drops its connection and schedules a restart with backoff. */
  async #failed(unsafeReason: string, kind: BackendErrorKind): Promise<void> {
    const reason = this.#mask(unsafeReason);
    const generation = ++this.#generation;
    this.#clearTimers();
    this.#lastError = reason;
    this.#lastErrorKind = kind;
    // What the failed run printed last, kept apart from the error (the lines are masked as they come).
    if (this.config.type === 'stdio') this.#lastStderr = this.#stderr.since(this.#stderrMark).slice(-LAST_STDERR_LINES);
    this.#setState('down');
    await this.#teardown();
    if (this.#stopped || generation !== this.#generation) return;
    const { maxRestarts, restartBaseMs, restartMaxMs } = this.#options.settings;
    if (maxRestarts > 0 && this.#attempt >= maxRestarts) {
      this.#gaveUp = true;
      this.#lastError = `${reason} (gave up after ${this.#attempt} restarts)`;
      this.emit('state', this.status());
      return;
    }
    this.#attempt++;
    const delay = backoffDelay(this.#attempt, restartBaseMs, restartMaxMs, this.#options.random);
    this.#log.info('restart scheduled', { inMs: delay, attempt: this.#attempt });
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
      await client.close().catch((error: unknown) => this.#log.debug('close failed', { error: describeError(error) }));
    }
    this.#pid = undefined;
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
      await client.ping({ timeout: Math.min(this.config.timeoutMs, 10_000) }).catch((error: unknown) => {
        // An error response is an answer too: the server is alive and the round trip is measured.
        // Some minimal servers answer ping with -32601 (Method not found); only silence or a lost
        // connection (the SDK's own RequestTimeout and ConnectionClosed) count as a failed ping.
        if (error instanceof McpError && !isLocalFailure(error)) return;
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
        this.emit('state', this.status());
      }
    } catch (error) {
      if (generation !== this.#generation) return;
      if (isSessionGone(error)) {
        // The server restarted and forgot us; a new session, not a count towards a restart.
        await this.#renewSession(client);
        return;
      }
      this.#pingFailures++;
      this.#lastError = this.#mask(`ping failed: ${describeError(error)}`);
      this.#lastErrorKind = 'unresponsive';
      if (this.#pingFailures >= PING_FAILURES_BEFORE_RESTART) {
        await this.#failed(`${this.#lastError} (${this.#pingFailures} times in a row)`, 'unresponsive');
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
    this.emit('state', this.status());
  }

  #describeStartFailure(error: unknown): string {
    // Our own refusals (a missing secret, a cwd that is not a folder) are already worded for the owner.
    if (error instanceof GatewayError) return error.message;
    const err = error as NodeJS.ErrnoException;
    if (this.config.type === 'stdio' && err?.code === 'ENOENT') {
      return `command not found: ${this.config.command} (spawn ENOENT; check the command and PATH)`;
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      // The reason is usually in its stderr, which status() reports beside the error as lastStderr.
      return this.config.type === 'stdio'
        ? `${describeExit(this.#exitStatus?.())} during start-up`
        : 'connection closed during start-up';
    }
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return `did not finish initialize within ${this.config.startupTimeoutMs} ms`;
    }
    return describeError(error);
  }

  /** The kind of a failed start, from the error's type and code (see BackendErrorKind). */
  #startFailureKind(error: unknown): BackendErrorKind {
    // Our own refusals before anything ran: a missing secret, a cwd that is not a folder.
    if (error instanceof GatewayError) return 'not_started';
    const stdio = this.config.type === 'stdio';
    if (error instanceof McpError) {
      if (error.code === ErrorCode.RequestTimeout) return 'timeout';
      if (error.code === ErrorCode.ConnectionClosed) return stdio ? 'exited' : 'connection';
      return serverRefusalKind(error);
    }
    if (error instanceof StreamableHTTPError || error instanceof SseError) {
      // RFC 9110 §15.5.2, §15.5.4: the server wants (other) credentials.
      return error.code === 401 || error.code === 403 ? 'auth' : 'error';
    }
    // A system error: from spawn() for a child (ENOENT, EACCES), from the socket for a remote server.
    const code = errnoCode(error) ?? errnoCode((error as { cause?: unknown } | undefined)?.cause);
    if (code !== undefined) return stdio ? 'not_started' : 'connection';
    return 'error';
  }

  #unavailable(method: string): GatewayError {
    const reason = this.#lastError ? `: ${this.#lastError}` : '';
    return new GatewayError(
      'backend_unavailable',
      `Backend "${this.name}" is ${this.#state}${reason}; ${method} was not sent`,
    );
  }

  #translate(error: unknown, method: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return error;
    if (error instanceof McpError) {
      if (error.code === ErrorCode.RequestTimeout) {
        return new GatewayError(
          'backend_timeout',
          `Backend "${this.name}" did not answer ${method} within ${this.config.timeoutMs} ms`,
          { cause: error },
        );
      }
      if (error.code === ErrorCode.ConnectionClosed) {
        return new GatewayError(
          'backend_unavailable',
          `Backend "${this.name}" is ${this.#state} (${this.#lastError ?? 'connection closed'}); ${method} did not complete`,
          { cause: error },
        );
      }
      // The backend's own JSON-RPC error: relayed as is, but for its own secrets (a server may
      // quote the key it was refused with). McpError prefixes "MCP error <code>: " to the message.
      const masked = this.#mask(error.message);
      if (masked === error.message) return error;
      const prefix = `MCP error ${error.code}: `;
      return new McpError(error.code, masked.startsWith(prefix) ? masked.slice(prefix.length) : masked, error.data);
    }
    return new GatewayError(
      'backend_unavailable',
      this.#mask(`Backend "${this.name}": ${method} failed: ${describeError(error)}`),
      {
        cause: error,
      },
    );
  }
}

/**
 * Whether an HTTP error says the server no longer knows our session. MCP Streamable HTTP, session
 * management: a server that terminated a session MUST answer requests bearing its id with 404.
 * Servers that keep sessions in a map often answer an unknown id with 400 instead ("Bad Request:
 * No valid session ID provided", as the SDK's examples and server-everything do); a 400 counts
 * only when its body speaks of the session, so a request the server found malformed still fails.
 */
function isSessionGone(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  if (error.code === 404) return true;
  // The 400 must answer a request that carried a session id, with the JSON-RPC error the SDK's
  // server transport and its examples use for a refused session (-32000, a server error per
  // JSON-RPC 2.0 §5.1); a -32600/-32700 for a malformed request still fails. Were a server to use
  // -32000 for something else, the request is sent once more on a new session and then fails.
  return (
    error instanceof HttpStatusError &&
    error.code === 400 &&
    error.sessionId !== undefined &&
    error.rpcError?.code === SESSION_REFUSED
  );
}

/** The JSON-RPC error code servers built on the SDK answer an unknown or missing session with. */
const SESSION_REFUSED = -32000;

/** The `code` of a Node.js system error (`ENOENT`, `ECONNREFUSED`…), if it is one. */
function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('E') ? code : undefined;
}

/**
 * The kind of a server's own JSON-RPC error to initialize. JSON-RPC and MCP define no code for
 * "bad credentials" (servers pick their own, -32010, -32001…), so this one kind can only come
 * from the server's words: a stdio server told a wrong API key says so in its message. Only such
 * server-authored text is read here, never our own errors or the transport's.
 */
function serverRefusalKind(error: McpError): BackendErrorKind {
  return CREDENTIAL_WORDS.test(error.message) ? 'auth' : 'error';
}

const CREDENTIAL_WORDS = /unauthori[sz]ed|forbidden|credential|api.?key|invalid.{0,20}token/i;

/** Reads how a stdio child ended, for `lastError` (the transport keeps its child's exit status). */
function exitStatusReader(transport: StdioTransport): () => ExitStatus | undefined {
  return () => {
    const { exitCode, signalCode } = transport;
    if (exitCode === null && signalCode === null) return undefined;
    return { code: exitCode, signal: signalCode };
  };
}

/** Errors the SDK raises itself (no answer in time, connection gone), as opposed to a server's error response. */
function isLocalFailure(error: McpError): boolean {
  return error.code === ErrorCode.RequestTimeout || error.code === ErrorCode.ConnectionClosed;
}

/** `process exited with code 1`, `killed by SIGKILL`, or `process exited` when the status is unknown. */
function describeExit(exit: ExitStatus | undefined): string {
  if (exit?.signal) return `killed by ${exit.signal}`;
  if (exit?.code != null) return `process exited with code ${exit.code}`;
  return 'process exited';
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

/** EventSource requests do not take requestInit headers; pass them through a fetch wrapper. */
function withHeaders(headers: Record<string, string>, base: typeof fetch): typeof fetch {
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    return base(input, { ...init, headers: merged });
  };
}
