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
  createMcpHandler,
  Server,
  type AuthInfo,
  type McpHttpHandler,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/errors.js';
import type { Identity } from './builtins.js';
import type { CatalogHandlers, RequestEnv } from './session-server.js';

/** The modern revision this path serves. */
export const STATELESS_REVISION = '2026-07-28';

/**
 * How long a client may reuse a list or discovery result (2026-07-28 `ttlMs`). Lists change when a
 * backend or a grant changes; open `subscriptions/listen` streams are told at once, and a call
 * outside the grant is refused whatever a cached list says, so a stale list costs a retry, never
 * access. `private`: each client's list is filtered by its own grant, so no shared cache may hold it.
 */
export const LIST_TTL_MS = 60_000;

export interface StatelessOptions {
  serverInfo: { name: string; version: string };
  instructions?: string;
  capabilities: () => ServerCapabilities;
  /** The grant-checked catalog handlers of a caller (cached by the endpoint per identity). */
  handlersFor: (identity: Identity) => CatalogHandlers;
  logger: Logger;
}

export interface StatelessEndpoint {
  /** Which era serves a request that came without `Mcp-Session-Id`. */
  classify(req: IncomingMessage, body: unknown): 'modern' | 'legacy' | { status: number; error: object };
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity): Promise<void>;
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
    const handlers = options.handlersFor(identity);
    const env = (ctx: ServerContext): RequestEnv => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      return {
        signal: ctx.mcpReq.signal,
        ...(progressToken !== undefined && { progressToken }),
        notify: (notification) => ctx.mcpReq.notify(notification),
      };
    };
    // The handlers return the backend's answers as they came; the SDK checks their shape per
    // revision (tools/call) and stamps `resultType` and the cache fields.
    type Answer = Promise<never>;
    const answer = (value: unknown) => Promise.resolve(value) as Answer;
    server.setRequestHandler('tools/list', (request) => answer(handlers.listTools(request.params?.cursor)));
    server.setRequestHandler('tools/call', (request, ctx) =>
      answer(handlers.callTool(request.params.name, request.params.arguments, env(ctx))),
    );
    server.setRequestHandler('prompts/list', (request) => answer(handlers.listPrompts(request.params?.cursor)));
    server.setRequestHandler('prompts/get', (request, ctx) => answer(handlers.getPrompt(request.params, env(ctx))));
    server.setRequestHandler('resources/list', (request) => answer(handlers.listResources(request.params?.cursor)));
    server.setRequestHandler('resources/templates/list', (request) =>
      answer(handlers.listTemplates(request.params?.cursor)),
    );
    server.setRequestHandler('resources/read', (request, ctx) =>
      answer(handlers.readResource(request.params, env(ctx))),
    );
    server.setRequestHandler('completion/complete', (request) =>
      answer(handlers.complete(request.params as unknown as Record<string, unknown>)),
    );
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

  return {
    classify(req, body) {
      const outcome = classifyInboundRequest({
        httpMethod: req.method ?? 'GET',
        body,
        ...optional('protocolVersionHeader', header(req, 'mcp-protocol-version')),
        ...optional('mcpMethodHeader', header(req, 'mcp-method')),
        ...optional('mcpNameHeader', header(req, 'mcp-name')),
      });
      if (outcome.kind === 'modern') return 'modern';
      if (outcome.kind === 'legacy') return 'legacy';
      const id = (body as { id?: unknown } | undefined)?.id ?? null;
      const error = {
        jsonrpc: '2.0',
        id,
        error: {
          code: outcome.code,
          message: outcome.message,
          ...(outcome.data !== undefined && { data: outcome.data }),
        },
      };
      return { status: outcome.httpStatus, error };
    },

    async handle(req, res, body, identity) {
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
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal gateway error' } }),
        );
        return;
      }
      await writeResponse(response, res);
    },

    listChanged(kind) {
      if (kind === 'tools') handler.notify.toolsChanged();
      else if (kind === 'prompts') handler.notify.promptsChanged();
      else handler.notify.resourcesChanged();
    },

    close: () => handler.close(),
  };
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
