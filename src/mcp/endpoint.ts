import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInitializeRequest, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { BackendStatus } from '../backends/types.js';
import type { Federation } from '../federation/federation.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LOCAL_OWNER, type Identity } from './builtins.js';
import { NodeStreamableHttpTransport } from './http-transport.js';
import { sendJsonRpcError } from '../shared/json-rpc.js';
import type { ActivityLog } from './activity.js';
import { createSessionServer, type SessionServer, type SubscriptionRegistry } from './session-server.js';

export interface McpEndpointOptions {
  federation: Federation;
  statuses: () => BackendStatus[];
  serverInfo: { name: string; version: string };
  logger: Logger;
  listPageSize: number;
  sessionIdleMs: number;
  activity?: ActivityLog;
}

interface Session {
  id: string;
  transport: NodeStreamableHttpTransport;
  mcp: SessionServer;
  identity: Identity;
  subscriptions: Set<string>;
}

const INSTRUCTIONS =
  'This is Cortex Gateway: the tools of several MCP servers behind one endpoint, named <server>__<tool>. ' +
  'Call whoami to see which servers are connected and healthy, and find_tools to search the tools by words.';

/**
 * The client-facing Streamable HTTP endpoint: one SDK transport and one MCP server per session,
 * all answering from the shared federation. Host/Origin checks and body parsing happen before this.
 */
export class McpEndpoint {
  readonly #options: McpEndpointOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #subscribers = new Map<string, Set<object>>();
  readonly #log: Logger;
  readonly #subscriptions: SubscriptionRegistry;
  #closed = false;
  /** While paused, every MCP request is answered 503; backends and sessions are kept. */
  paused = false;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: McpEndpointOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#closeIdleSessions(), Math.min(60_000, options.sessionIdleMs / 2));
    this.#sweeper.unref();
    this.#log = options.logger.child({ component: 'mcp' });
    this.#subscriptions = {
      subscribe: (server, uri) => this.#subscribe(server, uri),
      unsubscribe: (server, uri) => this.#unsubscribe(server, uri),
    };
    const { federation } = options;
    federation.on('list-changed', (kind) => {
      for (const session of this.#sessions.values()) {
        const server = session.mcp.server;
        const send =
          kind === 'tools'
            ? server.sendToolListChanged()
            : kind === 'prompts'
              ? server.sendPromptListChanged()
              : server.sendResourceListChanged();
        void send.catch(() => {});
      }
    });
    federation.on('log', (backend, params) => {
      const logger = params.logger ? `${backend}/${params.logger}` : backend;
      for (const session of this.#sessions.values()) {
        if (!session.mcp.wantsLog(params.level as LoggingLevel)) continue;
        void session.mcp.server.sendLoggingMessage({ ...params, logger }).catch(() => {});
      }
    });
    federation.on('resource-updated', (_backend, uri) => {
      for (const session of this.#sessions.values()) {
        if (!session.subscriptions.has(uri)) continue;
        void session.mcp.server.sendResourceUpdated({ uri }).catch(() => {});
      }
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Handles POST, GET and DELETE on the MCP path; `body` is the already-parsed JSON for POST. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    identity: Identity = LOCAL_OWNER,
  ): Promise<void> {
    if (this.paused) {
      // The owner paused the gateway: clients are told to come back later; sessions stay for then.
      res.setHeader('Retry-After', '60');
      sendJsonRpcError(res, 503, -32000, 'Cortex Gateway is paused by its owner');
      return;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = this.#sessions.get(sessionId);
      if (!session) {
        // Streamable HTTP: an unknown or expired session is 404, which tells the client to re-initialize.
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      if (session.identity.subject !== identity.subject || session.identity.clientId !== identity.clientId) {
        // A session belongs to the principal that created it; another token may not ride on it.
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      if (req.method === 'POST') session.transport.handlePost(req, res, body);
      else if (req.method === 'GET') session.transport.handleGet(req, res);
      else await session.transport.handleDelete(req, res);
      return;
    }
    if (req.method !== 'POST' || !containsInitialize(body)) {
      sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    if (this.#closed) {
      sendJsonRpcError(res, 503, -32000, 'Gateway is shutting down');
      return;
    }
    await this.#startSession(req, res, body, identity);
  }

  async #startSession(req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity): Promise<void> {
    const mcp = createSessionServer({
      federation: this.#options.federation,
      statuses: this.#options.statuses,
      serverInfo: this.#options.serverInfo,
      identity,
      listPageSize: this.#options.listPageSize,
      subscriptions: this.#subscriptions,
      instructions: INSTRUCTIONS,
      logger: this.#log,
      ...(this.#options.activity ? { activity: this.#options.activity } : {}),
    });
    const transport = new NodeStreamableHttpTransport(randomUUID());
    transport.direct = mcp.direct;
    const session: Session = { id: transport.sessionId, transport, mcp, identity, subscriptions: new Set() };
    this.#sessions.set(session.id, session);
    transport.onclose = () => {
      this.#sessions.delete(session.id);
      for (const uri of session.subscriptions) void this.#unsubscribe(mcp.server, uri).catch(() => {});
      this.#log.debug('session closed', { session: session.id });
    };
    transport.onerror = (error) => this.#log.debug('transport error', { error: describeError(error) });
    await mcp.server.connect(transport);
    this.#log.debug('session opened', { session: session.id, client: identity.clientId });
    transport.handlePost(req, res, body);
  }

  async #subscribe(server: object, uri: string): Promise<void> {
    const session = [...this.#sessions.values()].find((s) => s.mcp.server === server);
    const subscribers = this.#subscribers.get(uri) ?? new Set<object>();
    if (subscribers.size === 0) {
      await this.#options.federation.resourceBackend(uri).request('resources/subscribe', { uri });
    }
    subscribers.add(server);
    this.#subscribers.set(uri, subscribers);
    session?.subscriptions.add(uri);
  }

  async #unsubscribe(server: object, uri: string): Promise<void> {
    const session = [...this.#sessions.values()].find((s) => s.mcp.server === server);
    session?.subscriptions.delete(uri);
    const subscribers = this.#subscribers.get(uri);
    if (!subscribers?.delete(server)) return;
    if (subscribers.size > 0) return;
    this.#subscribers.delete(uri);
    await this.#options.federation
      .resourceBackend(uri)
      .request('resources/unsubscribe', { uri })
      .catch(() => {});
  }

  #closeIdleSessions(): void {
    const now = Date.now();
    for (const session of this.#sessions.values()) {
      if (!session.transport.isIdle(now, this.#options.sessionIdleMs)) continue;
      this.#log.info('closing idle session', { session: session.id, client: session.identity.clientId });
      void session.mcp.server.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const sessions = [...this.#sessions.values()];
    await Promise.allSettled(sessions.map((session) => session.mcp.server.close()));
    this.#sessions.clear();
  }
}

function containsInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
}
