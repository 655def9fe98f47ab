/**
 * Why this file is over 400 lines: it is one MCP session as the protocol sees it (the SDK `Server`,
 * the handlers of every method the method table serves, the fast paths for tools/list and
 * tools/call, and the wire form of errors), and these parts share the session's grant and catalog
 * caches. The protocol-revision issue rewrites it next around the new revision's session model;
 * splitting it now would be undone by that rewrite, so it is split there.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import {
  CompleteRequestSchema,
  ErrorCode,
  RELATED_TASK_META_KEY,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type LoggingLevel,
  type RequestId,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from '../backends/call-context.js';
import type { BackendStatus } from '../backends/types.js';
import type { FederatedCatalog } from '../federation/catalog.js';
import type { ActivityLog } from './activity.js';
import { acceptsNotification, allows, needOf, type Need } from '../federation/method-grants.js';
import { grantOf, type Grant } from '../federation/scopes.js';
import type { Federation, ListKind, RouteOptions } from '../federation/federation.js';
import { describeError, GatewayError } from '../shared/errors.js';
import { PRESERIALIZED } from '../shared/json-rpc.js';
import { maskErrorText } from '../shared/mask-error.js';
import type { Admission, DirectHandler } from './http-transport.js';
import type { Logger } from '../shared/logger.js';
import { BUILTIN_NAMES, BUILTIN_TOOLS, findTools, reportBackends, whoami, type Identity } from './builtins.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const RelayedCallToolRequestSchema = z.object({
  method: z.literal('tools/call'),
  params: z.looseObject({
    name: z.string(),
    arguments: z.record(z.string(), z.unknown()).optional(),
  }),
});
type RelayedCallToolRequest = z.infer<typeof RelayedCallToolRequestSchema>;

/** A client's answer to a relayed request goes back to the backend as it came. */
const passthroughResult = z.looseObject({});

/**
 * How long a relayed question may wait for the client's answer: a person may be answering it. The
 * call's end aborts it sooner (CallContext.ask's signal), so this only bounds a call that lasts.
 */
const ASK_TIMEOUT_MS = 3_600_000;

/** JSON-RPC error codes the gateway uses for failures of its own (server-defined range, JSON-RPC 2.0 §5.1). */
export const GATEWAY_ERROR_CODES = {
  backendUnavailable: -32000,
  backendTimeout: -32001,
} as const;

const LOG_LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

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
}

/** Resource subscriptions are reference-counted across sessions, so a backend is asked once per URI. */
export interface SubscriptionRegistry {
  subscribe(session: object, uri: string): Promise<void>;
  unsubscribe(session: object, uri: string): Promise<void>;
}

export interface SessionServer {
  server: Server;
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
  /** Minimum level of backend log messages this session wants; set by `logging/setLevel`. */
  logLevel(): LoggingLevel;
  wantsLog(level: LoggingLevel): boolean;
}

/** One MCP `Server` per client session, answering from the shared federated catalog. */
export function createSessionServer(options: SessionServerOptions): SessionServer {
  const { federation, identity } = options;
  const server = new Server(options.serverInfo, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      logging: {},
      completions: {},
    },
    ...(options.instructions ? { instructions: options.instructions } : {}),
  });
  // The session's requests to its client (relayed questions) are numbered from 1, not the SDK's 0:
  // SDK 1.x clients ignore a notifications/cancelled for request id 0 (a truthiness check,
  // modelcontextprotocol/typescript-sdk#2283), so the first question could never be withdrawn.
  (server as unknown as { _requestMessageId: number })._requestMessageId = 1;
  let level: LoggingLevel = 'info';
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
    get capabilities() {
      return server.getClientCapabilities() ?? {};
    },
    ask: (method, params, signal) =>
      server.request((params === undefined ? { method } : { method, params }) as ServerRequest, passthroughResult, {
        relatedRequestId,
        signal,
        timeout: ASK_TIMEOUT_MS,
      }),
  });
  /** What routes a request of this client: its CallContext, and its client id for `per-client` backends. */
  const callerOf = (requestId: RequestId): Pick<RouteOptions, 'context' | 'client'> => ({
    context: contextFor(requestId),
    client: identity.clientId,
  });
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
    if (!need) throw new WireError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
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
        return new WireError(ErrorCode.InvalidParams, `Unknown tool: ${need.name}`);
      case 'prompt':
        return new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${need.name}`);
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
      enforce(message.method, message.params);
      return undefined;
    } catch (error) {
      if (!(error instanceof WireError)) {
        options.logger.error('grant check failed', { method: message.method, error: describeError(error) });
        return { code: ErrorCode.InternalError, message: 'Internal gateway error' };
      }
      const refusal = error;
      return {
        code: refusal.code,
        message: refusal.message,
        ...(refusal.data !== undefined && { data: refusal.data }),
      };
    }
  };

  server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const catalog = federation.catalog;
    const cursor = request.params?.cursor;
    const granted = grant();
    if (cursor === undefined && options.listPageSize === 0) return fullToolList(catalog, granted);
    const tools = visibleTools(catalog, granted);
    const { items, nextCursor } = paginate([...BUILTIN_TOOLS, ...tools], cursor, options.listPageSize);
    return nextCursor ? { tools: items, nextCursor } : { tools: items };
  });

  /** tools/call, shared by the SDK's request path and the transport's direct path (`direct` below). */
  const callTool = (
    name: string,
    args: Record<string, unknown> | undefined,
    route: (call: (options: RouteOptions) => Promise<Record<string, unknown>>) => Promise<Record<string, unknown>>,
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
      throw new WireError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    const call = relay(() => route((routeOptions) => federation.callTool(name, args, routeOptions)));
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

  // tools/call is the hot path and a relay: the params are checked with a light schema here (the
  // backend validates its own arguments), and the backend's result goes back as it came. The SDK
  // Server's own tools/call wrapper would parse both with the full schemas, which costs latency
  // and would reject results from backends that speak a newer revision than our SDK knows.
  Protocol.prototype.setRequestHandler.call(
    server,
    RelayedCallToolRequestSchema,
    async (request: RelayedCallToolRequest, extra: Extra) =>
      callTool(request.params.name, request.params.arguments, (call) =>
        relayed(extra, call, callerOf(extra.requestId)),
      ),
  );

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
      return Promise.resolve(callTool(name, args, (call) => call({ signal, ...callerOf(request.id) })));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  server.setRequestHandler(ListPromptsRequestSchema, (request) => {
    const prompts = visiblePrompts(federation.catalog, grant());
    const { items, nextCursor } = paginate(prompts, request.params?.cursor, options.listPageSize);
    return nextCursor ? { prompts: items, nextCursor } : { prompts: items };
  });

  server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
    const { name } = request.params;
    enforce('prompts/get', request.params);
    if (!federation.catalog.prompt(name)) {
      const starting = federation.startingBackend(name);
      if (starting && grant().allowsRead(starting.backendId)) {
        throw new WireError(GATEWAY_ERROR_CODES.backendUnavailable, starting.message, starting.data);
      }
      throw new WireError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    }
    return relay(() =>
      relayed(extra, (route) => federation.getPrompt(name, request.params.arguments, route), callerOf(extra.requestId)),
    );
  });

  server.setRequestHandler(ListResourcesRequestSchema, (request) => {
    const allowed = visibleResources(federation.catalog, grant());
    const { items, nextCursor } = paginate(allowed, request.params?.cursor, options.listPageSize);
    return nextCursor ? { resources: items, nextCursor } : { resources: items };
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, (request) => {
    const allowed = visibleTemplates(federation.catalog, grant());
    const { items, nextCursor } = paginate(allowed, request.params?.cursor, options.listPageSize);
    return nextCursor ? { resourceTemplates: items, nextCursor } : { resourceTemplates: items };
  });

  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => {
    enforce('resources/read', request.params);
    return relay(() =>
      relayed(extra, (route) => federation.readResource(request.params.uri, route), callerOf(extra.requestId)),
    );
  });

  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    enforce('resources/subscribe', request.params);
    await relay(() => options.subscriptions.subscribe(server, request.params.uri));
    return {};
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    await relay(() => options.subscriptions.unsubscribe(server, request.params.uri));
    return {};
  });

  server.setRequestHandler(CompleteRequestSchema, (request) => {
    enforce('completion/complete', request.params);
    return relay(() => federation.complete(request.params as Parameters<Federation['complete']>[0]));
  });

  // What the session last saw of each list: its catalog and grant, compared by content only when
  // either changed (most list_changed events concern other sessions' backends).
  const seen = {} as Record<ListKind, { catalog: FederatedCatalog; key: string }>;
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    seen[kind] = { catalog: federation.catalog, key: grant().key };
  }
  const viewChanged = (kind: ListKind): boolean => {
    const now = { catalog: federation.catalog, key: grant().key };
    const before = seen[kind];
    seen[kind] = now;
    if (now.catalog === before.catalog && now.key === before.key) return false;
    return viewSignature(kind, before.catalog, before.key, grant) !== viewSignature(kind, now.catalog, now.key, grant);
  };

  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    level = request.params.level;
    return {};
  });

  return {
    server,
    direct,
    admit,
    grant,
    viewChanged,
    logLevel: () => level,
    wantsLog: (messageLevel) => LOG_LEVELS.indexOf(messageLevel) >= LOG_LEVELS.indexOf(level),
  };
}

/** A client notification the gateway does not act on: dropped (JSON-RPC 2.0 §4.1 forbids answering it). */
const NOT_ACTED_ON = { code: ErrorCode.MethodNotFound, message: 'Notification not handled' } as const;

const visibleTools = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.tools.filter((tool) => grant.allowsTool(tool)).map((tool) => tool.definition);
const visiblePrompts = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.prompts.filter((prompt) => grant.allowsRead(prompt.backendId)).map((prompt) => prompt.definition);
const visibleResources = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.resources.filter((_, i) => grant.allowsRead(catalog.resourceOwners[i]!.id));
const visibleTemplates = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.resourceTemplates.filter((_, i) => grant.allowsRead(catalog.templateOwners[i]!.id));

const viewCache = new WeakMap<FederatedCatalog, Map<string, string>>();

/**
 * What a grant lists of one kind in one catalog version, as a string to compare: cached per catalog
 * (immutable, so old versions are collected) and grant key, so sessions with equal grants share it.
 * A key other than the current grant's is rebuilt into its grant (a key lists the scopes).
 */
function viewSignature(kind: ListKind, catalog: FederatedCatalog, key: string, current: () => Grant): string {
  let byKey = viewCache.get(catalog);
  if (!byKey) {
    byKey = new Map();
    viewCache.set(catalog, byKey);
  }
  const cacheKey = `${kind}\u0000${key}`;
  let signature = byKey.get(cacheKey);
  if (signature === undefined) {
    const grant = current().key === key ? current() : grantOf(key ? key.split(' ') : []);
    const view =
      kind === 'tools'
        ? visibleTools(catalog, grant)
        : kind === 'prompts'
          ? visiblePrompts(catalog, grant)
          : [visibleResources(catalog, grant), visibleTemplates(catalog, grant)];
    signature = JSON.stringify(view);
    byKey.set(cacheKey, signature);
  }
  return signature;
}

type ToolList = { tools: Tool[]; [PRESERIALIZED]: string };
const toolListCache = new WeakMap<FederatedCatalog, Map<string, ToolList>>();

/**
 * The whole tool list, built and serialized once per catalog version and per visibility (the set
 * of grants that decides which tools a session sees): catalogs are immutable and rebuilt on
 * change, so the catalog object itself keys the cache and old versions are collected.
 */
function fullToolList(catalog: FederatedCatalog, grant: Grant): ToolList {
  let byVisibility = toolListCache.get(catalog);
  if (!byVisibility) {
    byVisibility = new Map();
    toolListCache.set(catalog, byVisibility);
  }
  let entry = byVisibility.get(grant.key);
  if (!entry) {
    const tools = [...BUILTIN_TOOLS, ...visibleTools(catalog, grant)];
    entry = { tools, [PRESERIALIZED]: JSON.stringify({ tools }) };
    byVisibility.set(grant.key, entry);
  }
  return entry;
}

/**
 * The params the direct path takes: exactly what RelayedCallToolRequestSchema accepts, minus
 * progress (its notifications need the SDK's ordering) and task creation (the SDK refuses it).
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
 * Cancellation and progress pass through: the client's abort signal cancels the backend request,
 * and the backend's progress is re-sent under the token the client chose.
 *
 * Progress is sent in order, and the relayed result waits for the progress sent before it: the
 * SDK's notification path is asynchronous, and a result that overtook its progress would end the
 * response stream with those notifications still unsent.
 */
function relayed<T>(
  extra: Extra,
  call: (options: RouteOptions) => Promise<T>,
  caller: Pick<RouteOptions, 'context' | 'client'> = {},
): Promise<T> {
  const progressToken = extra._meta?.progressToken;
  const options: RouteOptions = { signal: extra.signal, ...caller };
  let sent: Promise<unknown> = Promise.resolve();
  if (progressToken !== undefined) {
    options.onprogress = (progress) => {
      sent = sent
        .then(() =>
          extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }),
        )
        .catch(() => {});
    };
  }
  return call(options).then(async (result) => {
    await sent;
    return result;
  });
}

/**
 * An error as it goes on the wire. The SDK sends a thrown error's `code`, `message` and `data`;
 * McpError's message carries an "MCP error <code>: " prefix meant for local display, which the
 * client would add again, so wire errors are built from the clean text.
 */
class WireError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function cleanMessage(error: McpError): string {
  const prefix = `MCP error ${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/** Converts the gateway's own failures into JSON-RPC errors that name the backend; relays the backend's own. */
const relayWith =
  (logger: Logger) =>
  async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof McpError) throw new WireError(error.code, cleanMessage(error), error.data);
      if (error instanceof GatewayError) {
        switch (error.code) {
          case 'backend_unavailable':
            throw new WireError(GATEWAY_ERROR_CODES.backendUnavailable, error.message);
          case 'backend_timeout':
            throw new WireError(GATEWAY_ERROR_CODES.backendTimeout, error.message);
          case 'unknown_tool':
          case 'unknown_prompt':
          case 'invalid_argument':
            throw new WireError(ErrorCode.InvalidParams, error.message);
          case 'unknown_resource':
            // MCP spec: resource not found is -32002.
            throw new WireError(-32002, error.message);
          default:
            break;
        }
      }
      // Unexpected: keep the details inside, send a generic error out.
      logger.error('unexpected error while relaying a request', { error: describeError(error) });
      throw new WireError(ErrorCode.InternalError, 'Internal gateway error');
    }
  };

/** Opaque cursors over the federated lists; a page size of 0 returns everything at once. */
export function paginate<T>(
  all: readonly T[],
  cursor: string | undefined,
  pageSize: number,
): { items: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    const decoded = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0 || decoded > all.length) {
      throw new WireError(ErrorCode.InvalidParams, 'Invalid cursor');
    }
    offset = decoded;
  }
  if (pageSize <= 0) return { items: all.slice(offset) };
  const end = offset + pageSize;
  const items = all.slice(offset, end);
  return end < all.length ? { items, nextCursor: Buffer.from(String(end)).toString('base64url') } : { items };
}
