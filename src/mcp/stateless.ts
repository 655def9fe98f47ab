/**
 * The 2026-07-28 revision on `/mcp`: stateless requests, each carrying its protocol version and
 * the client's capabilities in `_meta` (basic/index, "Request metadata"), with no `initialize` and
 * no `Mcp-Session-Id`. Served next to the 2025 sessions (endpoint.ts routes by era).
 *
 * Why the SDK's serving entry (`createMcpHandler`) and not a transport of ours: the revision's
 * validation ladder (envelope, `Mcp-Method` / `Mcp-Name` against the body, the protocol-version
 * header against `_meta`, required client capabilities, removed methods answered 404),
 * `server/discover`, `resultType` and the cache fields, and `subscriptions/listen` are all in it,
 * and each is a place to get the wire wrong. The catalog itself is ours: every method is answered
 * by the same grant-checked handlers as a 2025 session (session-server.ts `CatalogHandlers`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  classifyInboundRequest,
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  RELATED_TASK_META_KEY,
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  Server,
  type AuthInfo,
  type JSONRPCRequest,
  type LoggingLevel,
  type McpHttpHandler,
  type RequestId,
  type ServerCapabilities,
  type ServerContext,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/errors.js';
import type { Identity } from './builtins.js';
import type { CallContext } from '../backends/call-context.js';
import type { ListKind, TaskRequest } from '../federation/federation.js';
import { TASKS_EXTENSION } from '../backends/protocol-era.js';
import type { Grant } from '../federation/scopes.js';
import { forwardedMeta } from './forwarded-meta.js';
import { createInputRounds, type Round } from './input-rounds.js';
import { isLoggingLevel, logLevelAtLeast } from './log-routing.js';
import type { RequestEnv, SessionServer } from './session-server.js';

export type StatelessCapabilities = ServerCapabilities;

/** The modern revision this path serves. */
export const STATELESS_REVISION = '2026-07-28';

/**
 * How long a client may reuse a list or discovery result (2026-07-28 `ttlMs`). Lists change when a
 * backend or a grant changes; open `subscriptions/listen` streams are told at once, and a call
 * outside the grant is refused whatever a cached list says, so a stale list costs a retry, never
 * access. `private`: each client's list is filtered by its own grant, so no shared cache may hold it.
 */
export const LIST_TTL_MS = 60_000;

/**
 * How long a call whose backend asked something waits for the client's retry with the answer: a
 * person may be answering. Past it the call is cancelled at the backend.
 */
export const INPUT_WAIT_MS = 600_000;
/** Calls waiting for answers at once, over all clients. */
export const MAX_WAITING_CALLS = 256;

export interface StatelessOptions {
  /** Clock time in milliseconds (the gateway's injected clock). */
  now: () => number;
  serverInfo: { name: string; version: string };
  instructions?: string;
  capabilities: () => ServerCapabilities;
  /** The grant-checked session server of a caller (cached by the endpoint per identity). */
  sessionFor: (identity: Identity) => SessionServer;
  /**
   * The one call among `calls` (to backends, each of one caller) that a log message of `backendId`
   * relates to, if there is exactly one (log-routing.ts `relatedRequest` over the live catalog).
   */
  relatedCall: (calls: readonly JSONRPCRequest[], backendId: string) => RequestId | undefined;
  /**
   * Whether `taskId` names a live 2026-07-28 task of the caller `owner` (task-relay.ts) whose tool
   * `grant` still covers: only such tasks' status is sent on the caller's listen streams.
   */
  ownsTask: (owner: string, taskId: string, grant: Grant) => boolean;
  /** Open `subscriptions/listen` streams at once, over all callers and per caller. */
  maxListeners: number;
  maxListenersPerClient: number;
  logger: Logger;
}

/** A backend's log message as a caller receives it (its `logger` already names the backend). */
export interface LogMessage {
  method: 'notifications/message';
  params: { level: LoggingLevel; logger?: string; data: unknown };
}

export interface StatelessEndpoint {
  /**
   * Serves a POST that came without `Mcp-Session-Id` when it is 2026-07-28 traffic (or refuses it as
   * the revision says); false when it is 2025 traffic, which the endpoint answers itself.
   */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity): Promise<boolean>;
  /** Cancels calls whose client did not come back with the answers in time (the endpoint's sweeper). */
  sweep(): void;
  /** Tells the open `subscriptions/listen` streams whose caller's filtered view of the list changed. */
  listChanged(kind: ListKind): void;
  /** Tells the listen streams subscribed to `uri` whose caller may still read it (`mayRead`, checked now). */
  resourceUpdated(uri: string, mayRead: (grant: Grant) => boolean): void;
  /**
   * Sends a backend's log message on the response stream of the call it relates to, for each
   * caller granted read of that backend whose call asked for logs at that level.
   */
  log(backendId: string, message: LogMessage): void;
  /**
   * Sends a task's status (`notifications/tasks`, ext-tasks "Task Status Notifications") on the
   * listen streams of its owner that named it, while `covered` says the stream's grant still covers
   * the task's tool. `params` is the task as the owner knows it (the gateway's id).
   */
  taskStatus(owner: string, taskId: string, params: Record<string, unknown>, covered: (grant: Grant) => boolean): void;
  close(): Promise<void>;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function createStatelessEndpoint(options: StatelessOptions): StatelessEndpoint {
  const log = options.logger;
  const cacheHint = { ttlMs: LIST_TTL_MS, cacheScope: 'private' as const };
  const rounds = createInputRounds({ now: options.now, waitMs: INPUT_WAIT_MS, maxWaiting: MAX_WAITING_CALLS });
  /** The calls in flight whose request asked for log messages (`_meta` log level), for `log`. */
  const loggingCalls = new Set<LoggingCall>();
  let loggingCallIds = 0;
  /** The open `subscriptions/listen` streams, each served by its own SDK entry (see `listen`). */
  const streams = new Set<ListenStream>();

  /**
   * A call that may ask the user (tools/call, prompts/get, resources/read) as 2026-07-28 rounds
   * (input-rounds.ts): the first request starts it with this client as the call's context, whose
   * questions become an `input_required` result; a retry carrying `requestState` answers them.
   * `request` names the call (method and name), which the retry must repeat.
   */
  const inRounds = (
    identity: Identity,
    request: string,
    call: { capabilities: unknown; requestState: unknown; responses: Record<string, unknown> | undefined },
    signal: AbortSignal,
    run: (caller: { signal: AbortSignal; context: CallContext }) => unknown,
  ): Promise<unknown> => {
    const owner = ownerOf(identity);
    const capabilities = (isObject(call.capabilities) ? call.capabilities : {}) as CallContext['capabilities'];
    const round =
      typeof call.requestState === 'string'
        ? rounds.resume(owner, request, call.requestState, call.responses ?? {}, signal)
        : rounds.start(
            owner,
            request,
            async (ask, callSignal) => run({ signal: callSignal, context: { capabilities, ask } }),
            signal,
          );
    return round.then(asResult);
  };

  const build = (identity: Identity): Server => {
    const server = new Server(options.serverInfo, {
      capabilities: options.capabilities(),
      ...(options.instructions ? { instructions: options.instructions } : {}),
      cacheHints: {
        'server/discover': cacheHint,
        'tools/list': cacheHint,
        'prompts/list': cacheHint,
        'resources/list': cacheHint,
        'resources/templates/list': cacheHint,
      },
    });
    const session = options.sessionFor(identity);
    const { handlers } = session;
    const env = (ctx: ServerContext): RequestEnv => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const meta = forwardedMeta(ctx.mcpReq._meta);
      const logLevel = logLevelOf(ctx);
      return {
        signal: ctx.mcpReq.signal,
        ...(progressToken !== undefined && { progressToken }),
        ...(meta && { meta }),
        // A 2026-07-28 backend is asked for the same level (backend.ts CallOptions.logLevel).
        ...(logLevel !== undefined && { logLevel }),
        notify: (notification) => ctx.mcpReq.notify(notification),
      };
    };
    // The handlers return the backend's answers as they came; the SDK checks their shape per
    // revision (tools/call) and stamps `resultType` and the cache fields.
    type Answer = Promise<never>;
    const answer = (value: unknown) => Promise.resolve(value) as Answer;
    server.setRequestHandler('tools/list', (request) => answer(handlers.listTools(request.params?.cursor)));
    const roundOf = (ctx: ServerContext) => ({
      capabilities: (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY],
      requestState: ctx.mcpReq.requestState(),
      responses: ctx.mcpReq.inputResponses,
    });
    // The SDK refuses a handler for a capability not declared: each family only when offered.
    const offered = server.getCapabilities();
    /** The log level the request asked for, when logging is offered (the SDK refuses an unknown level). */
    const logLevelOf = (ctx: ServerContext): LoggingLevel | undefined => {
      const level = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY];
      return offered.logging && isLoggingLevel(level) ? level : undefined;
    };
    /**
     * A call that reaches a backend, registered for `log` while it runs when its request asked
     * for log messages (2026-07-28 has no logging/setLevel: the level is the request's, in `_meta`,
     * and without it no log message may be sent for the request). Its answer waits for the log
     * messages sent before it, which would otherwise be cut off by the end of the response stream.
     */
    const logged = async (ctx: ServerContext, method: string, params: object, run: () => unknown) => {
      const threshold = logLevelOf(ctx);
      if (threshold === undefined) return run();
      let sent: Promise<unknown> = Promise.resolve();
      const call: LoggingCall = {
        owner: ownerOf(identity),
        request: { jsonrpc: '2.0', id: ++loggingCallIds, method, params: params as JSONRPCRequest['params'] },
        threshold,
        grant: session.grant,
        send: (message) => {
          sent = sent.then(() => ctx.mcpReq.notify(message)).catch(() => {});
        },
      };
      loggingCalls.add(call);
      try {
        return await run();
      } finally {
        loggingCalls.delete(call);
        await sent;
      }
    };
    server.setRequestHandler('tools/call', (request, ctx) => {
      const round = roundOf(ctx);
      const tasks = tasksOf(round.capabilities);
      return answer(
        logged(ctx, 'tools/call', request.params, () =>
          inRounds(identity, `tools/call ${request.params.name}`, round, ctx.mcpReq.signal, (caller) =>
            handlers.callTool(request.params.name, request.params.arguments, {
              ...env(ctx),
              ...caller,
              ...(tasks && { tasks }),
            }),
          ),
        ),
      );
    });
    if ((offered.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION]) {
      // The Tasks extension's methods (ext-tasks, "Supported Methods"), relayed to the backend that
      // owns the task. The schema form of the registration is what lets the SDK serve tasks/get and
      // tasks/cancel on this revision (names the extension reuses from 2025-11-25 core).
      server.setRequestHandler('tasks/get', { params: TaskIdParams }, (params, ctx) =>
        answer(handlers.task('modern', 'tasks/get', params, env(ctx))),
      );
      server.setRequestHandler('tasks/cancel', { params: TaskIdParams }, (params, ctx) =>
        answer(handlers.task('modern', 'tasks/cancel', params, env(ctx))),
      );
      // The SDK lifts `inputResponses` out of the params (it is the multi-round-trip field of this
      // revision); the backend expects them in tasks/update's params, where the client put them.
      server.setRequestHandler('tasks/update', { params: TaskIdParams }, (params, ctx) =>
        answer(
          handlers.task(
            'modern',
            'tasks/update',
            { ...params, inputResponses: ctx.mcpReq.inputResponses ?? params.inputResponses ?? {} },
            env(ctx),
          ),
        ),
      );
    }
    if (offered.prompts) {
      server.setRequestHandler('prompts/list', (request) => answer(handlers.listPrompts(request.params?.cursor)));
      server.setRequestHandler('prompts/get', (request, ctx) =>
        answer(
          logged(ctx, 'prompts/get', request.params, () =>
            inRounds(identity, `prompts/get ${request.params.name}`, roundOf(ctx), ctx.mcpReq.signal, (caller) =>
              handlers.getPrompt(request.params, { ...env(ctx), ...caller }),
            ),
          ),
        ),
      );
    }
    if (offered.resources) {
      server.setRequestHandler('resources/list', (request) => answer(handlers.listResources(request.params?.cursor)));
      server.setRequestHandler('resources/templates/list', (request) =>
        answer(handlers.listTemplates(request.params?.cursor)),
      );
      server.setRequestHandler('resources/read', (request, ctx) =>
        answer(
          logged(ctx, 'resources/read', request.params, () =>
            inRounds(identity, `resources/read ${request.params.uri}`, roundOf(ctx), ctx.mcpReq.signal, (caller) =>
              handlers.readResource(request.params, { ...env(ctx), ...caller }),
            ),
          ),
        ),
      );
    }
    if (offered.completions) {
      server.setRequestHandler('completion/complete', (request, ctx) =>
        answer(
          logged(ctx, 'completion/complete', request.params, () =>
            handlers.complete(request.params as unknown as Record<string, unknown>, env(ctx)),
          ),
        ),
      );
    }
    return server;
  };

  const handler: McpHttpHandler = createMcpHandler(
    (ctx) => build((ctx.authInfo?.extra as { identity: Identity }).identity),
    {
      // 2025 traffic never reaches this handler: the endpoint serves it with sessions.
      legacy: 'reject',
      onerror: (error) => log.debug('stateless request refused or failed', { error: describeError(error) }),
    },
  );

  const classify = (req: IncomingMessage, body: unknown) =>
    classifyInboundRequest({
      httpMethod: req.method ?? 'GET',
      body,
      ...optional('protocolVersionHeader', header(req, 'mcp-protocol-version')),
      ...optional('mcpMethodHeader', header(req, 'mcp-method')),
      ...optional('mcpNameHeader', header(req, 'mcp-name')),
    });

  /** The SDK's serving of one request: everything but the plain tools/call. */
  const viaSdk = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    identity: Identity,
    entry: McpHttpHandler = handler,
    stream?: StreamEdit,
  ) => {
    const controller = new AbortController();
    // The client going away cancels the request (there is no notifications/cancelled to wait for).
    res.once('close', () => controller.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'authorization' || name === 'cookie') continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const request = new Request(`http://gateway${req.url ?? '/mcp'}`, {
      method: req.method ?? 'POST',
      headers,
      signal: controller.signal,
    });
    // The identity travels to the factory in `extra`; the access token itself never leaves the
    // HTTP layer (an empty `token` here), so nothing downstream can log or forward it.
    const authInfo: AuthInfo = {
      token: '',
      clientId: identity.clientId,
      scopes: [...identity.scopes],
      extra: { identity },
    };
    let response: Response;
    try {
      response = await entry.fetch(request, { authInfo, parsedBody: body });
    } catch (error) {
      log.error('stateless request failed', { error: describeError(error) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal gateway error' } }));
      return;
    }
    await writeResponse(response, res, stream);
  };

  /**
   * The plain tools/call (the hot path) answered without the SDK: building a server and a web
   * Request/Response per call costs three times the CPU of a 2025 session's call (docs/benchmark.md).
   * Taken only when every rule of the ladder visibly holds (plainCall); anything else, right or
   * wrong, goes to the SDK, which answers or refuses it as the revision says.
   */
  const direct = (res: ServerResponse, request: PlainCall, identity: Identity) => {
    const controller = new AbortController();
    // The client leaving before its answer ends the round; the close that follows a sent answer does not.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const { name, arguments: args, _meta } = request.params;
    const { handlers } = options.sessionFor(identity);
    const meta = forwardedMeta(_meta);
    const round = { capabilities: _meta[CLIENT_CAPABILITIES_META_KEY], requestState: undefined, responses: undefined };
    const serverInfo = { [SERVER_INFO_META_KEY]: options.serverInfo };
    const tasks = tasksOf(round.capabilities);
    void inRounds(identity, `tools/call ${name}`, round, controller.signal, (caller) =>
      handlers.callTool(name, args, {
        ...caller,
        ...(meta && { meta }),
        ...(tasks && { tasks }),
        notify: async () => {},
      }),
    ).then(
      (result) => {
        const { _meta: resultMeta, ...rest } = result as { _meta?: object; resultType?: string };
        const answer = { resultType: 'complete', ...rest, _meta: { ...resultMeta, ...serverInfo } };
        sendJson(res, 200, { result: answer, jsonrpc: '2.0', id: request.id });
      },
      (error: { code?: unknown; message?: unknown; data?: unknown }) => {
        const code = Number.isSafeInteger(error.code) ? (error.code as number) : -32603;
        const failure = {
          code,
          message: typeof error.message === 'string' ? error.message : 'Internal error',
          ...(error.data !== undefined && { data: error.data }),
        };
        sendJson(res, 200, { jsonrpc: '2.0', id: request.id, error: failure });
      },
    );
    return true;
  };

  /**
   * A `subscriptions/listen` stream, served by an SDK entry of its own: the SDK's listen router
   * (ack first, filtering by kind and URI, subscription id stamping, graceful close) delivers
   * whatever its bus is given to every stream on it, so one shared entry would tell every caller
   * of every change. With a bus per stream, what reaches a stream is decided here, per caller:
   * list changes only when that caller's filtered view changed, resource updates only for URIs it
   * may read (`listChanged`, `resourceUpdated`).
   *
   * The resources the client names (`resourceSubscriptions`) are subscribed at their backends
   * first, within the grant and shared with 2025 sessions (the endpoint's reference counts); those
   * that cannot be (outside the grant, unknown, or refused by their backend) are dropped from the
   * request, so the acknowledgement names only what will be delivered (the acknowledged filter is
   * the subset the server honours). They are unsubscribed when the stream closes.
   */
  const listen = async (req: IncomingMessage, res: ServerResponse, body: ListenBody, identity: Identity) => {
    const owner = ownerOf(identity);
    const own = [...streams].filter((stream) => stream.owner === owner).length;
    if (streams.size >= options.maxListeners || own >= options.maxListenersPerClient) {
      // As the SDK's listen router refuses past its limit: in band, before any acknowledgement.
      sendJson(res, 200, {
        jsonrpc: '2.0',
        id: body.id,
        error: { code: -32603, message: 'Subscription limit reached' },
      });
      return;
    }
    const capabilities = options.capabilities();
    const entry = createMcpHandler(() => new Server(options.serverInfo, { capabilities }), {
      legacy: 'reject',
      onerror: (error) => log.debug('subscriptions/listen refused or failed', { error: describeError(error) }),
    });
    const session = options.sessionFor(identity);
    const tasks = listenTasks(body, capabilities, (id) => options.ownsTask(owner, id, session.grant()));
    if (tasks.kind === 'undeclared') {
      // ext-tasks "Task Status Notifications": task notifications need the extension declared.
      sendJson(res, 400, {
        jsonrpc: '2.0',
        id: body.id,
        error: {
          code: -32021,
          message: 'Missing required client capability',
          data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
        },
      });
      return;
    }
    const stream: ListenStream = {
      owner,
      grant: session.grant,
      changed: session.viewTracker(),
      uris: [],
      taskIds: new Set(tasks.honored),
      toolsHidden: false,
      notify: entry.notify,
      sendTask: () => {},
      // The SDK's graceful close: the listen request's empty result, then the end of the stream.
      close: () => entry.close(),
    };
    streams.add(stream);
    let open = true;
    const release = () => {
      const uris = stream.uris;
      stream.uris = [];
      for (const uri of uris) void session.handlers.unsubscribe(uri, stream).catch(() => {});
    };
    res.once('close', () => {
      open = false;
      streams.delete(stream);
      release();
      void entry.close().catch(() => {});
    });
    let request: unknown = body;
    const asked = resourceSubscriptionsOf(body);
    if (asked && capabilities.resources?.subscribe) {
      const subscribed = await Promise.all(
        [...new Set(asked)].map((uri) =>
          session.handlers.subscribe(uri, stream).then(
            () => uri,
            (error: unknown) => {
              log.debug('listen: resource not subscribed', { uri, error: describeError(error) });
              return undefined;
            },
          ),
        ),
      );
      stream.uris = subscribed.filter((uri): uri is string => uri !== undefined);
      if (!open) {
        release();
        return;
      }
      request = withResourceSubscriptions(body, stream.uris);
    }
    let edit: StreamEdit | undefined;
    if (stream.taskIds.size > 0) {
      // The SDK's listen router knows the four core kinds only: the tasks the caller may hear
      // about are acknowledged and sent here, on the same stream, stamped as the router stamps.
      // A stream asking for tasks alone would be closed by the router at once (nothing of its
      // own to deliver), so it is given list changes of tools to keep it open, never sent
      // (`toolsHidden`): the bus is this stream's own, and only `listChanged` publishes on it.
      const asked = (request as ListenBody).params!.notifications!;
      stream.toolsHidden = asked.toolsListChanged !== true;
      request = withTaskFilter(request as ListenBody, stream.toolsHidden);
      const pending: Record<string, unknown>[] = [];
      let write: ((params: Record<string, unknown>) => void) | undefined;
      stream.sendTask = (params) => (write ? write(params) : pending.push(params));
      edit = {
        first: (frame) => acknowledgedWithTasks(frame, [...stream.taskIds], stream.toolsHidden),
        opened: () => {
          write = (params) => {
            if (res.writableEnded || res.destroyed) return;
            const meta = { ...(params._meta as object | undefined), [SUBSCRIPTION_ID_META_KEY]: body.id };
            const notification = { jsonrpc: '2.0', method: 'notifications/tasks', params: { ...params, _meta: meta } };
            res.write(`event: message\ndata: ${JSON.stringify(notification)}\n\n`);
          };
          for (const params of pending.splice(0)) write(params);
        },
      };
    }
    await viaSdk(req, res, request, identity, entry, edit);
  };

  return {
    async serve(req, res, body, identity) {
      if (plainCall(req, body) && direct(res, body, identity)) return true;
      const outcome = classify(req, body);
      if (outcome.kind === 'legacy') return false;
      if (outcome.kind === 'modern') {
        if (isListen(body)) await listen(req, res, body, identity);
        else await viaSdk(req, res, body, identity);
        return true;
      }
      const id = (body as { id?: unknown } | undefined)?.id ?? null;
      const error = {
        code: outcome.code,
        message: outcome.message,
        ...(outcome.data !== undefined && { data: outcome.data }),
      };
      sendJson(res, outcome.httpStatus, { jsonrpc: '2.0', id, error });
      return true;
    },

    sweep: () => rounds.sweep(),

    listChanged(kind) {
      for (const stream of streams) {
        if (kind === 'tools' && stream.toolsHidden) continue;
        if (!stream.changed(kind)) continue;
        if (kind === 'tools') stream.notify.toolsChanged();
        else if (kind === 'prompts') stream.notify.promptsChanged();
        else stream.notify.resourcesChanged();
      }
    },

    resourceUpdated(uri, mayRead) {
      for (const stream of streams) {
        if (stream.uris.includes(uri) && mayRead(stream.grant())) stream.notify.resourceUpdated(uri);
      }
    },

    log(backendId, message) {
      // Attributed per caller, as a 2025 session's calls are (log-routing.ts): the one call of the
      // caller in flight to that backend that asked for logs. With several, which one the message
      // belongs to is unknown, and 2026-07-28 has no stream outside a request to send it on instead.
      const byOwner = new Map<string, LoggingCall[]>();
      for (const call of loggingCalls) {
        const calls = byOwner.get(call.owner);
        if (calls) calls.push(call);
        else byOwner.set(call.owner, [call]);
      }
      for (const calls of byOwner.values()) {
        const related = options.relatedCall(
          calls.map((call) => call.request),
          backendId,
        );
        const call = related === undefined ? undefined : calls.find((c) => c.request.id === related);
        if (!call || !call.grant().allowsRead(backendId)) continue;
        if (logLevelAtLeast(message.params.level, call.threshold)) call.send(message);
      }
    },

    taskStatus(owner, taskId, params, covered) {
      for (const stream of streams) {
        if (stream.owner !== owner || !stream.taskIds.has(taskId) || !covered(stream.grant())) continue;
        stream.sendTask(params);
      }
    },

    close: async () => {
      rounds.close();
      await Promise.allSettled([handler.close(), ...[...streams].map((stream) => stream.close())]);
    },
  };
}

const ownerOf = (identity: Identity): string => `${identity.subject}\u0000${identity.clientId}`;

/** A call in flight whose request asked for log messages. */
interface LoggingCall {
  owner: string;
  /** Its method and params as a request, for log-routing.ts to tell which backend it reaches. */
  request: JSONRPCRequest;
  /** The least severe level the request asked for. */
  threshold: LoggingLevel;
  grant: () => Grant;
  send(message: LogMessage): void;
}

/** An open `subscriptions/listen` stream. */
interface ListenStream {
  owner: string;
  grant: () => Grant;
  /** Whether the caller's filtered view of a list changed since this stream last looked. */
  changed: (kind: ListKind) => boolean;
  /** The resources subscribed at their backends for this stream: what its acknowledgement named. */
  uris: string[];
  /** The caller's tasks whose status this stream gets (`notifications.taskIds`, as acknowledged). */
  taskIds: ReadonlySet<string>;
  /** Tools list changes were asked of the SDK only to keep a tasks-only stream open: never sent. */
  toolsHidden: boolean;
  notify: ServerNotifier;
  /** Sends a task's status on the stream (after its acknowledgement). */
  sendTask(params: Record<string, unknown>): void;
  close(): Promise<void>;
}

interface ListenBody {
  jsonrpc: '2.0';
  id: string | number;
  method: 'subscriptions/listen';
  params?: {
    _meta?: Record<string, unknown>;
    notifications?: { resourceSubscriptions?: unknown; taskIds?: unknown; toolsListChanged?: unknown };
  };
}

/**
 * The tasks a listen request names (ext-tasks `notifications.taskIds`), as the gateway takes them:
 * `undeclared` when it names some without declaring the extension in its capabilities (refused
 * with -32021, as ext-tasks says); otherwise the ones it may hear about (`owns`), which its
 * acknowledgement names. Not offered the extension, the field means nothing and none are taken.
 */
function listenTasks(
  body: ListenBody,
  capabilities: ServerCapabilities,
  owns: (taskId: string) => boolean,
): { kind: 'undeclared' } | { kind: 'tasks'; honored: string[] } {
  const asked = body.params?.notifications?.taskIds;
  const offered = isObject(capabilities.extensions) && isObject(capabilities.extensions[TASKS_EXTENSION]);
  if (!offered || !Array.isArray(asked) || asked.length === 0) return { kind: 'tasks', honored: [] };
  if (!tasksOf(body.params?._meta?.[CLIENT_CAPABILITIES_META_KEY])) return { kind: 'undeclared' };
  const ids = asked.filter((id): id is string => typeof id === 'string');
  return { kind: 'tasks', honored: [...new Set(ids)].filter(owns) };
}

/** The listen request as the SDK serves it: without `taskIds` (served here), with tools kept open when hidden. */
function withTaskFilter(body: ListenBody, toolsHidden: boolean): ListenBody {
  const { taskIds: _tasks, ...notifications } = body.params!.notifications!;
  return {
    ...body,
    params: {
      ...body.params,
      notifications: toolsHidden ? { ...notifications, toolsListChanged: true } : notifications,
    },
  };
}

/**
 * The router's acknowledgement (the stream's first event) naming the tasks too, and without the
 * tools list changes it was given only to stay open. Any other frame is left as it is.
 */
function acknowledgedWithTasks(frame: string, taskIds: string[], toolsHidden: boolean): string {
  const match = /^event: message\ndata: (.*)\n\n$/s.exec(frame);
  if (!match) return frame;
  const message = JSON.parse(match[1]!) as { method?: string; params?: { notifications?: Record<string, unknown> } };
  if (message.method !== 'notifications/subscriptions/acknowledged' || !message.params?.notifications) return frame;
  const { toolsListChanged, ...rest } = message.params.notifications;
  const notifications = {
    ...rest,
    ...(!toolsHidden && toolsListChanged !== undefined && { toolsListChanged }),
    taskIds,
  };
  return `event: message\ndata: ${JSON.stringify({ ...message, params: { ...message.params, notifications } })}\n\n`;
}

/** What a listen stream's writer does besides copying the SDK's events: edit the first, then let others write. */
interface StreamEdit {
  first(frame: string): string;
  /** The first event is out: other events may follow it now. */
  opened(): void;
}

function isListen(body: unknown): body is ListenBody {
  return (
    isObject(body) &&
    body.method === 'subscriptions/listen' &&
    (typeof body.id === 'string' || typeof body.id === 'number')
  );
}

/** The URIs a listen request names, when they are a list of strings; anything else is left to the SDK to refuse. */
function resourceSubscriptionsOf(body: ListenBody): string[] | undefined {
  const uris = body.params?.notifications?.resourceSubscriptions;
  if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === 'string')) return undefined;
  return uris as string[];
}

/** The listen request asking for `uris` only (none: without the field, so nothing is acknowledged for it). */
function withResourceSubscriptions(body: ListenBody, uris: string[]): ListenBody {
  const { resourceSubscriptions: _asked, ...notifications } = body.params!.notifications!;
  return {
    ...body,
    params: {
      ...body.params,
      notifications: uris.length > 0 ? { ...notifications, resourceSubscriptions: uris } : notifications,
    },
  };
}

interface PlainCall {
  jsonrpc: '2.0';
  id: string | number;
  method: 'tools/call';
  params: { name: string; arguments?: Record<string, unknown>; _meta: Record<string, unknown> };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const TaskIdParams = z.looseObject({ taskId: z.string() });

/**
 * Whether a 2026-07-28 request's capabilities declare the Tasks extension: then a tools/call may
 * be answered with a task handle (ext-tasks, "Capability Negotiation"), and not otherwise.
 */
function tasksOf(capabilities: unknown): TaskRequest | undefined {
  const extensions = isObject(capabilities) ? capabilities.extensions : undefined;
  return isObject(extensions) && isObject(extensions[TASKS_EXTENSION]) ? { era: 'modern' } : undefined;
}

/**
 * A tools/call whose every 2026-07-28 rule visibly holds: the envelope names this revision and
 * carries capabilities (basic/index), the standard headers match the body (transports, "Standard
 * headers"), and nothing asks for what only the SDK path does (progress, log messages, tasks,
 * multi-round input).
 */
function plainCall(req: IncomingMessage, body: unknown): body is PlainCall {
  if (!isObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return false;
  if (typeof body.id !== 'string' && typeof body.id !== 'number') return false;
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string') return false;
  if (params.arguments !== undefined && !isObject(params.arguments)) return false;
  if (params.task !== undefined || params.inputResponses !== undefined || params.requestState !== undefined)
    return false;
  const meta = params._meta;
  if (!isObject(meta) || meta[PROTOCOL_VERSION_META_KEY] !== STATELESS_REVISION) return false;
  if (!isObject(meta[CLIENT_CAPABILITIES_META_KEY])) return false;
  // Progress and log messages are sent on the call's stream, which only the SDK path opens.
  if (meta.progressToken !== undefined || RELATED_TASK_META_KEY in meta || LOG_LEVEL_META_KEY in meta) return false;
  const accept = req.headers.accept ?? '';
  return (
    header(req, 'mcp-protocol-version') === STATELESS_REVISION &&
    header(req, 'mcp-method') === 'tools/call' &&
    header(req, 'mcp-name') === params.name &&
    (req.headers['content-type'] ?? '').includes('application/json') &&
    accept.includes('application/json') &&
    accept.includes('text/event-stream')
  );
}

function sendJson(res: ServerResponse, status: number, message: object): void {
  if (res.writableEnded || res.destroyed) return;
  const payload = JSON.stringify(message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** Copies a web Response onto node's response: one write for a JSON body, chunk by chunk for SSE. */
async function writeResponse(response: Response, res: ServerResponse, edit?: StreamEdit): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (!response.body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!(headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const payload = Buffer.from(await response.arrayBuffer());
    headers['content-length'] = String(payload.byteLength);
    res.writeHead(response.status, headers).end(payload);
    return;
  }
  res.writeHead(response.status, headers);
  res.flushHeaders();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  let first = edit !== undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (first) {
        // The router writes one event per chunk; the first is its acknowledgement.
        first = false;
        res.write(edit!.first(Buffer.from(value).toString('utf8')));
        edit!.opened();
        continue;
      }
      res.write(value);
    }
  } catch {
    // The stream was cancelled because the client left; nothing more to send.
  }
  res.end();
}

/** A round as the revision's result: the call's own, or the questions with the state to send back. */
function asResult(round: Round): unknown {
  if (round.kind === 'complete') return round.result;
  return { resultType: 'input_required', inputRequests: round.inputRequests, requestState: round.requestState };
}
