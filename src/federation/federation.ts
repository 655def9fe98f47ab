import { EventEmitter } from 'node:events';
import type {
  LoggingLevel,
  LoggingMessageNotification,
  Progress,
  ServerCapabilities,
} from '@modelcontextprotocol/server';
import type { BackendPool } from '../backends/pool.js';
import type { Backend, CallOptions } from '../backends/backend.js';
import type { CallContext } from '../backends/call-context.js';
import { GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { BackendState } from '../backends/types.js';
import type { TaskEra } from '../backends/protocol-era.js';
import { federatedCapabilities, LEGACY_TASKS, STARTING_BACKEND, taskSupport } from './capabilities.js';
import { buildCatalog, type FederatedCatalog, type Owner } from './catalog.js';
import { namespaceOf } from './naming.js';

export type ListKind = 'tools' | 'prompts' | 'resources';

export interface FederationEvents {
  'list-changed': [ListKind];
  /** A backend's log message; who may see it depends on the grant for that backend (method-grants.ts). */
  log: [backend: Owner, params: LoggingMessageNotification['params']];
  'resource-updated': [backend: Owner, uri: string];
  /**
   * A backend's task status notification, under its own task id, from the instance that runs the
   * task (a `per-client` backend's client id; empty for the shared one). It goes to the task's
   * owner only (mcp/task-relay.ts knows whose it is).
   */
  'task-status': [backend: Owner, instance: string, task: Record<string, unknown>];
}

/** A call to a backend that is still starting: answered with a retryable error, not "Unknown tool". */
export interface StartingBackend {
  /** The backend's namespace prefix, for the caller's grant check. */
  backendId: string;
  message: string;
  data: { backend: string; state: BackendState; retryable: true };
}

export interface RouteOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
  /** The client request's `_meta` to send on (without its progress token: see mcp/forwarded-meta.ts). */
  meta?: Record<string, unknown>;
  /**
   * The calling client, for the backend request's duration: what the backend asks meanwhile
   * (sampling, elicitation, roots) is put to it. Taken by tools/call, prompts/get and
   * resources/read; without one the backend's questions are refused.
   */
  context?: CallContext;
  /** The caller's OAuth client id: a `per-client` backend serves it from that client's own instance. */
  client?: string;
  /** The least severe level of log messages the caller asked for with this request (backend.ts CallOptions). */
  logLevel?: LoggingLevel;
  /**
   * The caller can take a task handle for this tools/call: a 2025-11-25 caller sent `params.task`,
   * a 2026-07-28 caller declared the Tasks extension. Passed on only to a backend whose tasks are
   * of the same era (`taskEra`); any other runs the call inline.
   */
  tasks?: TaskRequest;
}

export type TaskRequest = { era: 'modern' } | { era: 'legacy'; task: Record<string, unknown> };

/**
 * The federated view over the backend pool: one catalog rebuilt whenever a backend's changes, and
 * routing of calls, prompt gets and resource reads to the backend that owns them.
 */
export class Federation extends EventEmitter<FederationEvents> {
  readonly #pool: BackendPool;
  readonly #log: Logger;
  #catalog: FederatedCatalog;
  #signatures: Record<ListKind, string>;
  #rebuildScheduled = false;

  constructor(pool: BackendPool, logger: Logger) {
    super();
    this.#pool = pool;
    this.#log = logger;
    this.#catalog = this.#build();
    this.#signatures = signatures(this.#catalog);
    for (const backend of pool.backends) this.#attach(backend);
    pool.on('added', (backend) => this.#attach(backend));
    pool.on('removed', () => this.#scheduleRebuild());
  }

  #attach(backend: Backend): void {
    backend.on('catalog', () => this.#scheduleRebuild());
    const owner: Owner = { name: backend.name, id: backend.id };
    backend.on('log', (params) => this.emit('log', owner, params));
    backend.on('resource-updated', (uri) => this.emit('resource-updated', owner, uri));
    backend.on('task-status', (task, instance) => this.emit('task-status', owner, instance, task));
  }

  get catalog(): FederatedCatalog {
    return this.#catalog;
  }

  /**
   * What the gateway declares to a client initializing now, from its enabled backends: what each
   * declared when it last connected; one still starting that never connected may declare anything.
   */
  capabilities(): ServerCapabilities {
    const enabled = this.#pool.backends.filter((backend) => backend.config.enabled);
    const capabilities = federatedCapabilities(
      enabled.map((backend) => backend.serverCapabilities ?? (backend.starting ? STARTING_BACKEND : undefined)),
    );
    const tasks = taskSupport(enabled.map((backend) => backend.taskEra));
    return tasks.legacy ? { ...capabilities, tasks: LEGACY_TASKS } : capabilities;
  }

  /** Whether some enabled backend offers the 2026-07-28 Tasks extension (the stateless path's capability). */
  offersModernTasks(): boolean {
    return taskSupport(this.#pool.backends.filter((b) => b.config.enabled).map((b) => b.taskEra)).modern;
  }

  /** Whether a backend serves each client from its own instance (`instances: "per-client"`). */
  perClient(backend: string): boolean {
    return this.#pool.get(backend)?.config.instances === 'per-client';
  }

  /** The era of the tasks a tool's backend runs, when it runs any (protocol-era.ts `taskEraOf`). */
  taskEra(toolName: string): TaskEra | undefined {
    const tool = this.#catalog.tool(toolName);
    return tool ? this.#pool.get(tool.backend)?.taskEra : undefined;
  }

  /**
   * The backend a federated tool or prompt name belongs to, when that backend is configured,
   * enabled and still starting (connecting, or down with a restart scheduled) and the catalog has
   * no such name yet: right after start-up its tools are simply not listed yet, and the client
   * should retry rather than conclude the tool does not exist. Undefined for an unknown prefix and
   * for a backend that is ready (or gave up): there "Unknown tool" is the true answer.
   */
  startingBackend(name: string): StartingBackend | undefined {
    // A name's namespace is unambiguous (naming.ts): exactly one backend id can own it.
    const id = namespaceOf(name);
    const owner = this.#pool.backends.find((backend) => backend.config.enabled && backend.id === id);
    if (!owner?.starting) return undefined;
    const state = owner.state;
    return {
      backendId: owner.id,
      message: `Backend "${owner.name}" is ${state === 'connecting' ? 'connecting' : 'restarting'} and has not listed ${name} yet; retry in a moment`,
      data: { backend: owner.name, state, retryable: true },
    };
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, options: RouteOptions = {}) {
    const tool = this.#catalog.tool(name);
    if (!tool) throw new GatewayError('unknown_tool', `Unknown tool: ${name}`);
    const params: Record<string, unknown> = { name: tool.original };
    if (args !== undefined) params.arguments = args;
    if (options.meta) params._meta = options.meta;
    const backend = this.#backend(tool.backend);
    const sent = callOptions(options);
    if (options.tasks && options.tasks.era === backend.taskEra) {
      if (options.tasks.era === 'legacy') params.task = options.tasks.task;
      else sent.tasks = true;
    }
    return backend.request('tools/call', params, sent);
  }

  /**
   * A tasks/* request for a task a backend created (mcp/task-relay.ts keeps which): sent to that
   * backend, or the caller's instance of a `per-client` one, as it came.
   */
  async taskRequest(backend: string, method: string, params: Record<string, unknown>, options: RouteOptions = {}) {
    return this.#backend(backend).request(method, params, callOptions(options));
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: RouteOptions = {}) {
    const prompt = this.#catalog.prompt(name);
    if (!prompt) throw new GatewayError('unknown_prompt', `Unknown prompt: ${name}`);
    const params: Record<string, unknown> = { name: prompt.original };
    if (args !== undefined) params.arguments = args;
    if (options.meta) params._meta = options.meta;
    return this.#backend(prompt.backend).request('prompts/get', params, callOptions(options));
  }

  async readResource(uri: string, options: RouteOptions = {}) {
    const params: Record<string, unknown> = { uri };
    if (options.meta) params._meta = options.meta;
    return this.resourceBackend(uri).request('resources/read', params, callOptions(options));
  }

  resourceBackend(uri: string): Backend {
    const owner = this.#catalog.resourceOwner(uri);
    if (owner === undefined) throw new GatewayError('unknown_resource', `No backend serves resource ${uri}`);
    return this.#backend(owner.name);
  }

  /**
   * Completion for a federated prompt argument or a resource template, routed to the owner. The
   * client's `_meta` is replaced by `options.meta` (its progress token belongs to the client's hop).
   */
  async complete(
    params: { ref: { type: string; name?: string; uri?: string } } & Record<string, unknown>,
    options: RouteOptions = {},
  ) {
    const { _meta: _clientMeta, ...rest } = params;
    const { ref } = params;
    const sent: Record<string, unknown> = options.meta ? { ...rest, _meta: options.meta } : rest;
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      const prompt = this.#catalog.prompt(ref.name);
      if (!prompt) throw new GatewayError('unknown_prompt', `Unknown prompt: ${ref.name}`);
      return this.#backend(prompt.backend).request(
        'completion/complete',
        { ...sent, ref: { ...ref, name: prompt.original } },
        callOptions(options),
      );
    }
    if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      // The federated catalog's owner, the one the grant check (method-grants.ts) asked about.
      const owner = this.#catalog.templateOwner(ref.uri);
      if (!owner) throw new GatewayError('unknown_resource', `No backend serves resource template ${ref.uri}`);
      return this.#backend(owner.name).request('completion/complete', sent, callOptions(options));
    }
    throw new GatewayError('invalid_argument', `Unsupported completion reference type: ${ref.type}`);
  }

  #backend(name: string): Backend {
    const backend = this.#pool.get(name);
    if (!backend) throw new GatewayError('internal', `Backend ${name} vanished from the pool`);
    return backend;
  }

  #build(): FederatedCatalog {
    return buildCatalog(
      this.#pool.backends
        .filter((backend) => backend.config.enabled)
        .map((backend) => ({
          id: backend.id,
          name: backend.name,
          catalog: backend.catalog,
          overrides: backend.config.tools,
        })),
    );
  }

  /** Renames and collisions are logged once, when they first appear. */
  #reportNewNotes(previous: FederatedCatalog): void {
    const seen = new Set(previous.notes.map((n) => `${n.kind}:${n.backend}:${n.original}:${n.name}`));
    for (const note of this.#catalog.notes) {
      if (seen.has(`${note.kind}:${note.backend}:${note.original}:${note.name}`)) continue;
      this.#log.warn(
        `${note.kind} "${note.original}" of backend "${note.backend}" is listed as "${note.name}": ${note.note}`,
      );
    }
  }

  /** Coalesces catalog events from many backends (start-up, restarts) into one rebuild per tick. */
  #scheduleRebuild(): void {
    if (this.#rebuildScheduled) return;
    this.#rebuildScheduled = true;
    setImmediate(() => {
      this.#rebuildScheduled = false;
      const previous = this.#catalog;
      this.#catalog = this.#build();
      this.#reportNewNotes(previous);
      const next = signatures(this.#catalog);
      for (const kind of ['tools', 'prompts', 'resources'] as const) {
        if (next[kind] !== this.#signatures[kind]) {
          this.#log.debug('catalog changed', { kind });
          this.emit('list-changed', kind);
        }
      }
      this.#signatures = next;
    });
  }
}

function callOptions(options: RouteOptions): CallOptions {
  const out: CallOptions = {};
  if (options.signal) out.signal = options.signal;
  if (options.onprogress) out.onprogress = options.onprogress;
  if (options.context) out.context = options.context;
  if (options.client !== undefined) out.client = options.client;
  if (options.logLevel !== undefined) out.logLevel = options.logLevel;
  return out;
}

/** Cheap change detection: clients are told only when what they would list actually differs. */
function signatures(catalog: FederatedCatalog): Record<ListKind, string> {
  return {
    tools: JSON.stringify(catalog.tools.map((t) => t.definition)),
    prompts: JSON.stringify(catalog.prompts.map((p) => p.definition)),
    resources: JSON.stringify([catalog.resources, catalog.resourceTemplates]),
  };
}
