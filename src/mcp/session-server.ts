import {
  ProtocolErrorCode,
  RELATED_TASK_META_KEY,
  Server,
  type ClientCapabilities,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type LoggingLevel,
  type RequestId,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { CallContext } from '../backends/call-context.js';
import type { BackendStatus } from '../backends/types.js';
import type { FederatedCatalog } from '../federation/catalog.js';
import type { ActivityLog } from './activity.js';
import { acceptsNotification, allows, needOf, type Need } from '../federation/method-grants.js';
import { grantOf, type Grant } from '../federation/scopes.js';
import type { Federation, ListKind, RouteOptions, TaskRequest } from '../federation/federation.js';
import type { TaskEra } from '../backends/protocol-era.js';
import { describeError } from '../shared/errors.js';
import { maskErrorText } from '../shared/mask-error.js';
import type { Admission, DirectHandler } from './http-transport.js';
import type { Logger } from '../shared/logger.js';
import { BUILTIN_NAMES, BUILTIN_TOOLS, findTools, reportBackends, whoami, type Identity } from './builtins.js';
import { forwardedMeta } from './forwarded-meta.js';
import { logLevelAtLeast } from './log-routing.js';
import {
  fullToolList,
  paginate,
  viewSignature,
  visiblePrompts,
  visibleResources,
  visibleTemplates,
  visibleTools,
} from './session-lists.js';
import { handleOf, TaskRegistry, taskOwner, ttlOf, withGatewayId, type TaskEntry } from './task-relay.js';
import { GATEWAY_ERROR_CODES, relayWith, WireError } from './wire-errors.js';

const RelayedCallToolParamsSchema = z.looseObject({
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/** A client's answer to a relayed request goes back to the backend as it came. */
const passthroughResult = z.looseObject({});

/**
 * How long a relayed question may wait for the client's answer: a person may be answering it. The
 * call's end aborts it sooner (CallContext.ask's signal), so this only bounds a call that lasts.
 */
const ASK_TIMEOUT_MS = 3_600_000;

/** tasks/list asks the backends about this many of the caller's tasks at a time. */
const LIST_CONCURRENCY = 16;

export interface SessionServerOptions {
  federation: Federation;
  statuses: () => BackendStatus[];
  serverInfo: { name: string; version: string };
  identity: Identity;
  /**
   * The caller's scopes now: for an OAuth client, the owner's current decision for it. Read at every
   * check, so a change the owner makes applies to this session's next message. Default: the
   * identity's scopes, fixed.
   */
  scopes?: () => readonly string[];
  /** Masks secrets in a backend's error text before `whoami` shows it. Default: generic masking only. */
  maskError?: (backend: string, text: string) => string;
  listPageSize: number;
  subscriptions: SubscriptionRegistry;
  logger: Logger;
  instructions?: string;
  /** Where tool calls are recorded for the console's Activity page. */
  activity?: ActivityLog;
  /** The tasks backends created for callers, shared by all sessions. Default: this session's own. */
  tasks?: TaskRegistry;
}

/** Resource subscriptions are reference-counted across sessions, so a backend is asked once per URI. */
export interface SubscriptionRegistry {
  subscribe(session: object, uri: string): Promise<void>;
  unsubscribe(session: object, uri: string): Promise<void>;
}

/**
 * What a handler needs of the request it serves, whichever protocol revision carried it: the
 * 2025 sessions build it from their SDK 2.x `Server`'s handler context, the stateless 2026-07-28 path from the
 * SDK 2.x context (stateless.ts).
 */
export interface RequestEnv {
  signal: AbortSignal;
  progressToken?: string | number;
  /** The request's `_meta` as it goes on to the backend (forwarded-meta.ts). */
  meta?: Record<string, unknown>;
  /** The calling client, for what the backend asks while serving the request (relay). */
  context?: CallContext;
  /** The caller's OAuth client id: a `per-client` backend serves it from its own instance. */
  client?: string;
  /** The least severe level of log messages this request asked for (2026-07-28, request `_meta`). */
  logLevel?: LoggingLevel;
  /** Sends a notification related to this request (progress). */
  notify(notification: { method: string; params: Record<string, unknown> }): Promise<void>;
  /** The caller can take a task handle for this tools/call (federation.ts RouteOptions.tasks). */
  tasks?: TaskRequest;
}

/**
 * The catalog methods as plain functions over the session's grant, served by both eras: the 2025
 * session registers them on its own SDK 2.x `Server`, the stateless path on a per-request one.
 */
export interface CatalogHandlers {
  listTools(cursor: string | undefined): unknown;
  callTool(name: string, args: Record<string, unknown> | undefined, env: RequestEnv): unknown;
  listPrompts(cursor: string | undefined): unknown;
  getPrompt(params: { name: string; arguments?: Record<string, string> }, env: RequestEnv): unknown;
  listResources(cursor: string | undefined): unknown;
  listTemplates(cursor: string | undefined): unknown;
  readResource(params: { uri: string }, env: RequestEnv): unknown;
  complete(params: Record<string, unknown>, env: RequestEnv): unknown;
  /**
   * Subscribes `subscriber` (a 2025 session's server, or one 2026-07-28 listen stream) to a
   * resource's updates at its backend, within the grant; undone by `unsubscribe`.
   */
  subscribe(uri: string, subscriber: object): Promise<void>;
  unsubscribe(uri: string, subscriber: object): Promise<void>;
  /**
   * A tasks/* request of the caller's, about a task a backend created for one of its calls, in the
   * caller's era: relayed to that backend (tasks/list is answered from the caller's own tasks).
   */
  task(era: TaskEra, method: string, params: Record<string, unknown> | undefined, env: RequestEnv): unknown;
}

export interface SessionServer {
  server: Server;
  handlers: CatalogHandlers;
  /** Answers a plain tools/call without the SDK's protocol layer; undefined for any other request. */
  direct: DirectHandler;
  /**
   * The gate every client message passes before any handler (the transport calls it): a method
   * missing from the grant table (method-grants.ts) is refused, and so is a request outside the grant.
   */
  admit: Admission;
  /** The caller's grant now. */
  grant(): Grant;
  /**
   * Whether what this session would list of `kind` changed since it was last asked (the first time:
   * since the session opened); remembers the current view. Sessions are told list_changed only then.
   */
  viewChanged(kind: ListKind): boolean;
  /**
   * Another such memory of what was last seen, starting now, for a listener of its own: each
   * 2026-07-28 `subscriptions/listen` stream of this caller is told of a change once.
   */
  viewTracker(): (kind: ListKind) => boolean;
  /** Minimum level of backend log messages this session wants; set by `logging/setLevel`. */
  logLevel(): LoggingLevel;
  wantsLog(level: LoggingLevel): boolean;
}

/** One MCP `Server` per client session, answering from the shared federated catalog. */
export function createSessionServer(options: SessionServerOptions): SessionServer {
  const { federation, identity } = options;
  // Declared from the backends known now, and fixed for the session (federation/capabilities.ts).
  const capabilities = federation.capabilities();
  const server = new Server(options.serverInfo, {
    capabilities,
    ...(options.instructions ? { instructions: options.instructions } : {}),
  });
  // The session's requests to its client (relayed questions) are numbered from 1, not the SDK's 0:
  // SDK 1.x clients ignore a notifications/cancelled for request id 0 (a truthiness check,
  // modelcontextprotocol/typescript-sdk#2283), so the first question could never be withdrawn.
  (server as unknown as { _requestMessageId: number })._requestMessageId = 1;
  keepResourceNotFoundCode(server);
  let level: LoggingLevel = 'info';
  /** Whether the client chose its level (logging/setLevel): only then are 2026-07-28 backends asked for logs. */
  let levelSet = false;
  const relay = relayWith(options.logger);
  // Everything is filtered by the session's grant (the local owner's wildcard sees everything),
  // read afresh each time: the owner may change it while the session lasts. Sessions with equal
  // grants share a visibility key, and with it the cached tool list.
  const scopesNow = options.scopes ?? (() => identity.scopes);
  let current: { scopes: readonly string[]; grant: Grant } | undefined;
  const grant = (): Grant => {
    const scopes = scopesNow();
    if (current?.scopes !== scopes) current = { scopes, grant: grantOf(scopes) };
    return current.grant;
  };
  const visible = (name: string) => {
    const tool = federation.catalog.tool(name);
    return tool !== undefined && grant().allowsTool(tool);
  };
  const mask = options.maskError ?? ((_backend: string, text: string) => maskErrorText(text, []));
  /**
   * This session as the CallContext of one client request: what a backend asks while serving it
   * goes to this client as a server-to-client request related to that request, so it travels on
   * the request's own response stream (MCP 2025-11-25 basic/transports, "Sending Messages to the
   * Server" 6; http-transport.ts turns a JSON-mode response into a stream for it). The client's
   * answer comes back as a JSON-RPC response POSTed on the session and settles the SDK's request.
   * The capabilities are the ones the client declared at initialize; the backend checks them.
   */
  const contextFor = (relatedRequestId: RequestId): CallContext => ({
    get capabilities(): ClientCapabilities {
      return server.getClientCapabilities() ?? {};
    },
    ask: (method, params, signal) =>
      server.request(params === undefined ? { method } : { method, params }, passthroughResult, {
        relatedRequestId,
        signal,
        timeout: ASK_TIMEOUT_MS,
      }),
    // On the call's stream while it lasts, else the session's standalone one (http-transport.ts).
    elicitationComplete: (elicitationId) => {
      void server
        .notification({ method: 'notifications/elicitation/complete', params: { elicitationId } }, { relatedRequestId })
        .catch(() => {});
    },
  });
  /**
   * What routes a request of this client: its CallContext, its client id for `per-client`
   * backends, and the level it set with logging/setLevel. A 2025 backend logs at its own session's
   * level whoever calls; a 2026-07-28 backend sends log messages for a request only when the
   * request names a level (backend.ts CallOptions.logLevel), so without it this session would never
   * hear from one. A session that never set a level names none: it did not ask for log messages,
   * and a 2026-07-28 backend then sends none, which costs nothing on every call.
   */
  const callerOf = (requestId: RequestId): Pick<RouteOptions, 'context' | 'client' | 'logLevel'> => ({
    context: contextFor(requestId),
    client: identity.clientId,
    ...(levelSet && { logLevel: level }),
  });
  /** The SDK handler's context as a RequestEnv, with this session as the call's context. */
  const envOf = (ctx: ServerContext): RequestEnv => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    const meta = forwardedMeta(ctx.mcpReq._meta);
    return {
      signal: ctx.mcpReq.signal,
      ...(progressToken !== undefined && { progressToken }),
      ...(meta && { meta }),
      ...callerOf(ctx.mcpReq.id),
      notify: (notification) => ctx.mcpReq.notify(notification),
    };
  };
  const caller = {
    clientId: identity.clientId,
    ...(identity.clientName !== undefined ? { clientName: identity.clientName } : {}),
  };

  /**
   * The grant check of the method table, for the gate and again in each handler that reaches a
   * backend (sessions without the gate, such as in-memory ones, get the same answers). A method
   * the table lacks is not served (JSON-RPC 2.0 §5.1: -32601); a request outside the grant is
   * answered as if what it names did not exist, as the lists hide it.
   */
  const enforce = (method: string, params: Record<string, unknown> | undefined): void => {
    const need = needOf(method, params, federation.catalog);
    if (!need) throw new WireError(ProtocolErrorCode.MethodNotFound, `Method not found: ${method}`);
    if (allows(grant(), need)) return;
    throw outsideGrant(need as Extract<Need, { kind: 'backend' }>);
  };
  const outsideGrant = (need: Extract<Need, { kind: 'backend' }>): WireError => {
    switch (need.target) {
      case 'tool':
        options.activity?.start({ ...caller, tool: need.name, backend: need.backend })(
          'refused',
          'unknown tool, or outside the grant',
        );
        return new WireError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${need.name}`);
      case 'prompt':
        return new WireError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${need.name}`);
      case 'template':
        // As federation.complete answers a template nobody serves.
        return new WireError(-32002, `No backend serves resource template ${need.name}`);
      case 'resource':
        // MCP spec: resource not found is -32002.
        return new WireError(-32002, `Resource not found: ${need.name}`);
    }
  };
  const admit: Admission = (message: JSONRPCRequest | JSONRPCNotification) => {
    if (!('id' in message)) return acceptsNotification(message.method) ? undefined : NOT_ACTED_ON;
    try {
      // The table serves tasks for both eras; a session has them only when it was offered them,
      // and never tasks/update (the 2026-07-28 extension's).
      if (message.method.startsWith('tasks/') && (!capabilities.tasks || message.method === 'tasks/update')) {
        throw new WireError(ProtocolErrorCode.MethodNotFound, `Method not found: ${message.method}`);
      }
      enforce(message.method, message.params);
      return undefined;
    } catch (error) {
      if (!(error instanceof WireError)) {
        options.logger.error('grant check failed', { method: message.method, error: describeError(error) });
        return { code: ProtocolErrorCode.InternalError, message: 'Internal gateway error' };
      }
      const refusal = error;
      return {
        code: refusal.code,
        message: refusal.message,
        ...(refusal.data !== undefined && { data: refusal.data }),
      };
    }
  };

  const listTools = (cursor: string | undefined) => {
    const catalog = federation.catalog;
    const granted = grant();
    if (cursor === undefined && options.listPageSize === 0) return fullToolList(catalog, granted);
    const tools = visibleTools(catalog, granted);
    const { items, nextCursor } = paginate([...BUILTIN_TOOLS, ...tools], cursor, options.listPageSize);
    return nextCursor ? { tools: items, nextCursor } : { tools: items };
  };
  server.setRequestHandler('tools/list', (request) => listTools(request.params?.cursor));

  /** tools/call, shared by the SDK's request path and the transport's direct path (`direct` below). */
  const callTool = (
    name: string,
    args: Record<string, unknown> | undefined,
    route: (call: (options: RouteOptions) => Promise<Record<string, unknown>>) => Promise<Record<string, unknown>>,
    tasks?: TaskRequest,
  ): unknown => {
    enforce('tools/call', { name });
    const tool = federation.catalog.tool(name);
    const done = options.activity?.start({ ...caller, tool: name, args, ...(tool ? { backend: tool.backend } : {}) });
    if (BUILTIN_NAMES.has(name)) {
      done?.('ok');
      if (name === 'whoami') {
        const scopes = scopesNow();
        return whoami(identity, scopes, reportBackends(options.statuses(), grant(), mask));
      }
      return findTools(federation.catalog, visible, args);
    }
    if (!tool) {
      // A backend still starting has no tools listed yet: retryable, but only for a client granted that backend.
      const starting = federation.startingBackend(name);
      if (starting && grant().allowsRead(starting.backendId)) {
        done?.('error', starting.message);
        throw new WireError(GATEWAY_ERROR_CODES.backendUnavailable, starting.message, starting.data);
      }
      done?.('refused', 'unknown tool, or outside the grant');
      throw new WireError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    const call = relay(() =>
      route((routeOptions) => federation.callTool(name, args, tasks ? { ...routeOptions, tasks } : routeOptions)),
    ).then((result) => asHandle(tool, result, tasks));
    if (!done) return call;
    return call.then(
      (result) => {
        done((result as { isError?: unknown }).isError === true ? 'error' : 'ok');
        return result;
      },
      (error: unknown) => {
        done('error', error instanceof Error ? error.message : String(error));
        throw error;
      },
    );
  };

  /**
   * A tools/call result that is a task handle, as the caller gets it: filed under a gateway id
   * (task-relay.ts). A handle for a call that could not take one is the backend breaking the
   * rule (ext-tasks "Capability Negotiation": MUST NOT; 2025-11-25 likewise), and refused.
   */
  const owner = taskOwner(identity);
  const registry = options.tasks ?? new TaskRegistry({ now: Date.now });
  const asHandle = (
    tool: { backend: string; backendId: string; access: TaskEntry['access'] },
    result: Record<string, unknown>,
    request: TaskRequest | undefined,
  ): Record<string, unknown> => {
    const era = request?.era;
    const handle = era ? handleOf(era, result) : undefined;
    if (!handle) {
      if (result.resultType === 'task' || (request === undefined && isObject(result.task))) {
        throw new WireError(
          ProtocolErrorCode.InternalError,
          `Backend "${tool.backend}" answered with a task the call did not ask for`,
        );
      }
      return result;
    }
    const entry = registry.add(
      {
        owner,
        era: era!,
        backend: tool.backend,
        backendId: tool.backendId,
        access: tool.access,
        backendTaskId: handle.taskId,
        client: identity.clientId,
        instance: federation.perClient(tool.backend) ? identity.clientId : '',
      },
      handle.ttlMs,
    );
    return withGatewayId(result, entry);
  };

  /** The caller's task named in a tasks/* request, of its era and still within its grant; else "unknown task". */
  const taskEntry = (era: TaskEra, params: Record<string, unknown> | undefined): TaskEntry => {
    const entry = registry.find(owner, params?.taskId);
    if (!entry || entry.era !== era || !grant().allowsTool(entry)) {
      throw new WireError(ProtocolErrorCode.InvalidParams, `Unknown task: ${String(params?.taskId).slice(0, 200)}`);
    }
    return entry;
  };
  // The task lives where the call ran: a `per-client` backend's instance of the caller.
  const taskRoute = (entry: TaskEntry, env: RequestEnv): RouteOptions => ({ signal: env.signal, client: entry.client });
  const relayTask = async (entry: TaskEntry, method: string, params: Record<string, unknown>, env: RequestEnv) => {
    const { _meta: _clientMeta, ...rest } = params;
    const sent = { ...rest, taskId: entry.backendTaskId, ...(env.meta && { _meta: env.meta }) };
    const result = await relay(() => federation.taskRequest(entry.backend, method, sent, taskRoute(entry, env))).catch(
      (error: unknown) => {
        // The backend no longer knows the task (it expired there, or the backend restarted): so
        // neither does the gateway, and the answer names the caller's id, not the backend's.
        if (
          !(error instanceof WireError) ||
          error.code !== ProtocolErrorCode.InvalidParams ||
          method === 'tasks/update'
        ) {
          throw error;
        }
        registry.delete(entry.id);
        throw new WireError(ProtocolErrorCode.InvalidParams, `Unknown task: ${entry.id}`);
      },
    );
    if (method === 'tasks/get' || method === 'tasks/cancel') registry.renew(entry, ttlOf(entry.era, result));
    return withGatewayId(result, entry);
  };
  const task = async (
    era: TaskEra,
    method: string,
    params: Record<string, unknown> | undefined,
    env: RequestEnv,
  ): Promise<Record<string, unknown>> => {
    if (method !== 'tasks/list') return relayTask(taskEntry(era, params), method, params ?? {}, env);
    // The caller's own tasks only, each as its backend reports it now; one the backend no longer
    // knows is forgotten. Not paginated: a caller holds at most MAX_TASKS_PER_CALLER.
    // Asked LIST_CONCURRENCY at a time, so a long list does not flood the backends.
    const mine = registry.list(owner).filter((entry) => entry.era === era && grant().allowsTool(entry));
    const found: Record<string, unknown>[] = [];
    for (let i = 0; i < mine.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(
        mine
          .slice(i, i + LIST_CONCURRENCY)
          .map((entry) => relayTask(entry, 'tasks/get', {}, env).catch(() => undefined)),
      );
      for (const got of batch) if (got) found.push(got);
    }
    return { tasks: found };
  };

  /**
   * Methods answered with the backend's result as it came, past the SDK's per-method handler
   * wrappers: they are served by the Server's fallback handler (below), which the SDK calls for a
   * method of the session's revision that has no handler of its own.
   */
  const passthrough = new Map<string, (request: JSONRPCRequest, ctx: ServerContext) => Promise<unknown>>();
  server.fallbackRequestHandler = async (request, ctx) => {
    const handler = passthrough.get(request.method);
    if (!handler) throw new WireError(ProtocolErrorCode.MethodNotFound, 'Method not found');
    return (await handler(request, ctx)) as Awaited<ReturnType<NonNullable<Server['fallbackRequestHandler']>>>;
  };

  // tools/call is the hot path and a relay: the params are checked with a light schema here (the
  // backend validates its own arguments), and the backend's result goes back as it came. The SDK
  // Server's own tools/call wrapper would parse both with the full schemas, which costs latency
  // and would reject results from backends that speak a newer revision than our SDK knows.
  passthrough.set('tools/call', async (request, ctx) => {
    const parsed = RelayedCallToolParamsSchema.safeParse(request.params);
    if (!parsed.success) throw new WireError(ProtocolErrorCode.InvalidParams, 'Invalid params for tools/call');
    const params = parsed.data;
    return callTool(
      params.name,
      params.arguments,
      (call) => relayed(envOf(ctx), call),
      // MCP 2025-11-25 basic/utilities/tasks: a task-augmented request carries `params.task`.
      capabilities.tasks && isObject(params.task) ? { era: 'legacy', task: params.task } : undefined,
    );
  });

  /**
   * The common tools/call (one request, no progress wanted, plain params) answered without the
   * SDK's protocol layer, which costs a tenth of the gateway's CPU per relayed call (three zod
   * message checks, a params parse, an abort controller and extra object and promise hops). The
   * transport does what the SDK would around it: answers, maps errors, aborts on cancellation.
   * Anything else returns undefined and goes through the SDK as before.
   */
  const direct = (request: JSONRPCRequest, signal: AbortSignal): Promise<unknown> | undefined => {
    if (request.method !== 'tools/call' || !isPlainToolCall(request.params)) return undefined;
    const { name, arguments: args } = request.params;
    try {
      const meta = forwardedMeta(request.params._meta);
      return Promise.resolve(
        callTool(name, args, (call) => call({ signal, ...(meta && { meta }), ...callerOf(request.id) })),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const listPrompts = (cursor: string | undefined) => {
    const prompts = visiblePrompts(federation.catalog, grant());
    const { items, nextCursor } = paginate(prompts, cursor, options.listPageSize);
    return nextCursor ? { prompts: items, nextCursor } : { prompts: items };
  };
  const getPrompt = (params: { name: string; arguments?: Record<string, string> }, env: RequestEnv) => {
    const { name } = params;
    enforce('prompts/get', params);
    if (!federation.catalog.prompt(name)) {
      const starting = federation.startingBackend(name);
      if (starting && grant().allowsRead(starting.backendId)) {
        throw new WireError(GATEWAY_ERROR_CODES.backendUnavailable, starting.message, starting.data);
      }
      throw new WireError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    }
    return relay(() => relayed(env, (route) => federation.getPrompt(name, params.arguments, route)));
  };
  const listResources = (cursor: string | undefined) => {
    const allowed = visibleResources(federation.catalog, grant());
    const { items, nextCursor } = paginate(allowed, cursor, options.listPageSize);
    return nextCursor ? { resources: items, nextCursor } : { resources: items };
  };
  const listTemplates = (cursor: string | undefined) => {
    const allowed = visibleTemplates(federation.catalog, grant());
    const { items, nextCursor } = paginate(allowed, cursor, options.listPageSize);
    return nextCursor ? { resourceTemplates: items, nextCursor } : { resourceTemplates: items };
  };
  const readResource = (params: { uri: string }, env: RequestEnv) => {
    try {
      enforce('resources/read', params);
    } catch (error) {
      throw notFoundNamed(error, params.uri);
    }
    return relay(() => relayed(env, (route) => federation.readResource(params.uri, route))).catch((error: unknown) => {
      throw notFoundNamed(error, params.uri);
    });
  };
  const complete = (params: Record<string, unknown>, env: RequestEnv) => {
    enforce('completion/complete', params);
    const completeParams = params as Parameters<Federation['complete']>[0];
    return relay(() => relayed(env, (route) => federation.complete(completeParams, route)));
  };

  // The backend's answers go back as they came (the SDK types them by the spec's result shapes).
  const answer = (value: unknown) => Promise.resolve(value) as Promise<never>;

  // A method of a capability the session was not offered is not served (-32601): the SDK refuses
  // handlers for undeclared capabilities, and a client must not call them anyway.
  if (capabilities.prompts) {
    server.setRequestHandler('prompts/list', (request) => listPrompts(request.params?.cursor));
    server.setRequestHandler('prompts/get', (request, ctx) => answer(getPrompt(request.params, envOf(ctx))));
  }

  if (capabilities.resources) {
    server.setRequestHandler('resources/list', (request) => listResources(request.params?.cursor));
    server.setRequestHandler('resources/templates/list', (request) => listTemplates(request.params?.cursor));
    server.setRequestHandler('resources/read', (request, ctx) => answer(readResource(request.params, envOf(ctx))));
  }

  // Subscriptions are shared by every session (reference-counted per URI in the endpoint), so the
  // request's _meta is not forwarded: the backend hears of a URI once, for all of them.
  const subscribe = async (uri: string, subscriber: object): Promise<void> => {
    enforce('resources/subscribe', { uri });
    await relay(() => options.subscriptions.subscribe(subscriber, uri));
  };
  const unsubscribe = (uri: string, subscriber: object): Promise<void> =>
    relay(() => options.subscriptions.unsubscribe(subscriber, uri));
  if (capabilities.resources?.subscribe) {
    server.setRequestHandler('resources/subscribe', async (request) => {
      await subscribe(request.params.uri, server);
      return {};
    });

    server.setRequestHandler('resources/unsubscribe', async (request) => {
      await unsubscribe(request.params.uri, server);
      return {};
    });
  }

  if (capabilities.completions) {
    server.setRequestHandler('completion/complete', (request, ctx) => answer(complete(request.params, envOf(ctx))));
  }

  // Passed through, as tools/call is: the backend's answers go back as they came.
  if (capabilities.tasks) {
    for (const method of ['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel'] as const) {
      passthrough.set(method, (request, ctx) => task('legacy', method, request.params, envOf(ctx)));
    }
  }

  // What the session last saw of each list: its catalog and grant, compared by content only when
  // either changed (most list_changed events concern other sessions' backends).
  const viewTracker = (): ((kind: ListKind) => boolean) => {
    const seen = {} as Record<ListKind, { catalog: FederatedCatalog; key: string }>;
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      seen[kind] = { catalog: federation.catalog, key: grant().key };
    }
    return (kind) => {
      const now = { catalog: federation.catalog, key: grant().key };
      const before = seen[kind];
      seen[kind] = now;
      if (now.catalog === before.catalog && now.key === before.key) return false;
      return (
        viewSignature(kind, before.catalog, before.key, grant) !== viewSignature(kind, now.catalog, now.key, grant)
      );
    };
  };
  const viewChanged = viewTracker();

  if (capabilities.logging) {
    server.setRequestHandler('logging/setLevel', (request) => {
      level = request.params.level;
      levelSet = true;
      return {};
    });
  }

  const handlers: CatalogHandlers = {
    listTools,
    callTool: (name, args, env) => callTool(name, args, (call) => relayed(env, call), env.tasks),
    listPrompts,
    getPrompt,
    listResources,
    listTemplates,
    readResource,
    complete,
    subscribe,
    unsubscribe,
    task,
  };

  return {
    server,
    handlers,
    direct,
    admit,
    grant,
    viewChanged,
    viewTracker,
    logLevel: () => level,
    wantsLog: (messageLevel) => logLevelAtLeast(messageLevel, level),
  };
}

/**
 * MCP 2025-11-25 server/resources, "Error Handling": a resource not found is -32002, and so a
 * session answers it. The SDK 2.x Server turns a handler's -32002 into -32602 on every revision
 * (the 2026-07-28 rule, SEP-2164, applied to the 2025 ones too), in the wire codec it answers each
 * request with; a session's server gets a codec that keeps the code. The codec is reached by a
 * private method's name: should an SDK release rename it, this does nothing and
 * two-eras.test.ts's -32002 check fails.
 */
function keepResourceNotFoundCode(server: Server): void {
  type Codec = { encodeErrorCode(code: number): number };
  const internals = server as unknown as { _negotiatedWireCodec?: () => Codec };
  const negotiated = internals._negotiatedWireCodec;
  if (typeof negotiated !== 'function') return;
  const kept = new WeakMap<Codec, Codec>();
  internals._negotiatedWireCodec = function (this: Server) {
    const codec = negotiated.call(this);
    let keeping = kept.get(codec);
    if (!keeping) {
      // Everything else of the codec, by its prototype; only the error code is left as thrown.
      keeping = Object.assign(Object.create(codec) as Codec, { encodeErrorCode: (code: number) => code });
      kept.set(codec, keeping);
    }
    return keeping;
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A client notification the gateway does not act on: dropped (JSON-RPC 2.0 §4.1 forbids answering it). */
const NOT_ACTED_ON = { code: ProtocolErrorCode.MethodNotFound, message: 'Notification not handled' } as const;

/**
 * The params the direct path takes: exactly what RelayedCallToolParamsSchema accepts, minus
 * progress (its notifications need the SDK's ordering) and task-augmented calls (the SDK path
 * passes `params.task` on to the call).
 */
function isPlainToolCall(
  params: JSONRPCRequest['params'],
): params is { name: string; arguments?: Record<string, unknown> } & JSONRPCRequest['params'] {
  if (params === undefined || typeof params.name !== 'string' || params.task !== undefined) return false;
  const meta: unknown = params._meta;
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return false;
    if ('progressToken' in meta || RELATED_TASK_META_KEY in meta) return false;
  }
  const args = params.arguments;
  return args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args));
}

/**
 * Cancellation, progress and `_meta` pass through: the client's abort signal cancels the backend
 * request, the backend's progress is re-sent under the token the client chose, and the rest of the
 * request's `_meta` goes to the backend (forwarded-meta.ts).
 *
 * Progress is sent in order, and the relayed result waits for the progress sent before it: the
 * SDK's notification path is asynchronous, and a result that overtook its progress would end the
 * response stream with those notifications still unsent.
 */
function relayed<T>(env: RequestEnv, call: (options: RouteOptions) => Promise<T>): Promise<T> {
  const { progressToken, meta, context, client, logLevel } = env;
  const options: RouteOptions = { signal: env.signal };
  if (meta) options.meta = meta;
  if (context) options.context = context;
  if (client !== undefined) options.client = client;
  if (logLevel !== undefined) options.logLevel = logLevel;
  let sent: Promise<unknown> = Promise.resolve();
  if (progressToken !== undefined) {
    options.onprogress = (progress) => {
      sent = sent
        .then(() => env.notify({ method: 'notifications/progress', params: { ...progress, progressToken } }))
        .catch(() => {});
    };
  }
  return call(options).then(async (result) => {
    await sent;
    return result;
  });
}

/**
 * A resource nobody serves (or outside the grant) names its URI in `data`, as the 2025-11-25
 * example (server/resources, "Error Handling") and 2026-07-28 (SEP-2164) show; the SDK 2.x turns
 * the code into the revision's own for a 2026-07-28 caller.
 */
function notFoundNamed(error: unknown, uri: string): unknown {
  if (error instanceof WireError && error.code === -32002 && error.data === undefined) {
    return new WireError(-32002, error.message, { uri });
  }
  return error;
}
