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
  PROTOCOL_VERSION_META_KEY,
  RELATED_TASK_META_KEY,
  SERVER_INFO_META_KEY,
  Server,
  type AuthInfo,
  type McpHttpHandler,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/errors.js';
import type { Identity } from './builtins.js';
import type { CallContext } from '../backends/call-context.js';
import { forwardedMeta } from './forwarded-meta.js';
import { createInputRounds, type Round } from './input-rounds.js';
import type { RequestEnv, SessionServer } from './session-server.js';
import { TASKS_EXTENSION } from '../backends/protocol-era.js';
import type { TaskRequest } from '../federation/federation.js';

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
  logger: Logger;
}

export interface StatelessEndpoint {
  /**
   * Serves a POST that came without `Mcp-Session-Id` when it is 2026-07-28 traffic (or refuses it as
   * the revision says); false when it is 2025 traffic, which the endpoint answers itself.
   */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity): Promise<boolean>;
  /** Cancels calls whose client did not come back with the answers in time (the endpoint's sweeper). */
  sweep(): void;
  /** Tells open `subscriptions/listen` streams that a list changed. */
  listChanged(kind: 'tools' | 'prompts' | 'resources'): void;
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
    const owner = `${identity.subject}\u0000${identity.clientId}`;
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
    const { handlers } = options.sessionFor(identity);
    const env = (ctx: ServerContext): RequestEnv => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const meta = forwardedMeta(ctx.mcpReq._meta);
      return {
        signal: ctx.mcpReq.signal,
        ...(progressToken !== undefined && { progressToken }),
        ...(meta && { meta }),
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
    server.setRequestHandler('tools/call', (request, ctx) => {
      const round = roundOf(ctx);
      const tasks = tasksOf(round.capabilities);
      return answer(
        inRounds(identity, `tools/call ${request.params.name}`, round, ctx.mcpReq.signal, (caller) =>
          handlers.callTool(request.params.name, request.params.arguments, {
            ...env(ctx),
            ...caller,
            ...(tasks && { tasks }),
          }),
        ),
      );
    });
    // The SDK refuses a handler for a capability not declared: each family only when offered.
    const offered = server.getCapabilities();
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
          inRounds(identity, `prompts/get ${request.params.name}`, roundOf(ctx), ctx.mcpReq.signal, (caller) =>
            handlers.getPrompt(request.params, { ...env(ctx), ...caller }),
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
          inRounds(identity, `resources/read ${request.params.uri}`, roundOf(ctx), ctx.mcpReq.signal, (caller) =>
            handlers.readResource(request.params, { ...env(ctx), ...caller }),
          ),
        ),
      );
    }
    if (offered.completions) {
      server.setRequestHandler('completion/complete', (request, ctx) =>
        answer(handlers.complete(request.params as unknown as Record<string, unknown>, env(ctx))),
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
  const viaSdk = async (req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity) => {
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
      response = await handler.fetch(request, { authInfo, parsedBody: body });
    } catch (error) {
      log.error('stateless request failed', { error: describeError(error) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal gateway error' } }));
      return;
    }
    await writeResponse(response, res);
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

  return {
    async serve(req, res, body, identity) {
      if (plainCall(req, body) && direct(res, body, identity)) return true;
      const outcome = classify(req, body);
      if (outcome.kind === 'legacy') return false;
      if (outcome.kind === 'modern') {
        await viaSdk(req, res, body, identity);
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
      if (kind === 'tools') handler.notify.toolsChanged();
      else if (kind === 'prompts') handler.notify.promptsChanged();
      else handler.notify.resourcesChanged();
    },

    close: async () => {
      rounds.close();
      await handler.close();
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
 * headers"), and nothing asks for what only the SDK path does (progress, tasks, multi-round input).
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
  if (meta.progressToken !== undefined || RELATED_TASK_META_KEY in meta) return false;
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
async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
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
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
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
