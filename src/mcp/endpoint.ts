import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendStatus } from '../backends/types.js';
import type { Federation, ListKind } from '../federation/federation.js';
import type { LoggingLevel, ServerCapabilities } from '@modelcontextprotocol/server';
import { sendsNotification } from '../federation/method-grants.js';
import { TASKS_EXTENSION } from '../backends/protocol-era.js';
import { TaskRegistry, taskOwner, ttlOf, withGatewayId, type TaskEntry } from './task-relay.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createThrottle, type Throttle } from '../shared/throttle.js';
import { LOCAL_OWNER, type Identity } from './builtins.js';
import { NodeStreamableHttpTransport } from './http-transport.js';
import { sendJsonRpcError, singleRequestId } from '../shared/json-rpc.js';
import { relatedRequest } from './log-routing.js';
import { checkMessage } from './message-validation.js';
import type { ActivityLog } from './activity.js';
import { createSessionServer, type SessionServer, type SubscriptionRegistry } from './session-server.js';
import {
  createStatelessEndpoint,
  type LogMessage,
  type StatelessCapabilities,
  type StatelessEndpoint,
} from './stateless.js';

export interface McpEndpointOptions {
  federation: Federation;
  statuses: () => BackendStatus[];
  serverInfo: { name: string; version: string };
  logger: Logger;
  listPageSize: number;
  /** Settings of the same names in `gateway` (src/config/schema.ts). */
  sessionIdleMs: number;
  requestTimeoutMs: number;
  maxSessions: number;
  maxSessionsPerClient: number;
  activity?: ActivityLog;
  /** Session idleness, eviction order and request deadlines are measured on it. Default: system time. */
  clock?: Clock;
  /**
   * The scopes a session's caller has now (the owner's current decision for an OAuth client), read
   * at every check so a change applies at once. Default: the scopes of the identity the session
   * started with.
   */
  liveScopes?: (identity: Identity) => readonly string[];
  /** Masks the secrets of a backend in its error text (for `whoami`). */
  maskError?: (backend: string, text: string) => string;
}

interface Session {
  id: string;
  transport: NodeStreamableHttpTransport;
  mcp: SessionServer;
  identity: Identity;
  subscriptions: Set<string>;
}

/**
 * Bursts of list_changed reach a client as at most one per kind per window: the first at once, the
 * last at the end of its window. Clients answer each one by listing again, which for a big catalog
 * is megabytes; a backend that changes its tools ten times a second would otherwise cost that ten
 * times a second per client.
 */
export const LIST_CHANGED_WINDOW_MS = 250;

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
  readonly #clock: Clock;
  /** Tasks backends created for callers, by gateway id (task-relay.ts): shared by both eras' paths. */
  readonly #tasks: TaskRegistry;
  readonly #listChanged: Record<ListKind, Throttle>;
  #closed = false;
  readonly #stateless: StatelessEndpoint;
  /** The session servers of stateless (2026-07-28) callers, one per principal, least recently used first. */
  readonly #statelessCallers = new Map<string, SessionServer>();
  /** While paused, every MCP request is answered 503; backends and sessions are kept. */
  paused = false;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: McpEndpointOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#tasks = new TaskRegistry({ now: () => this.#clock.now() });
    // One sweep answers requests past the backstop and closes idle sessions; it runs often enough
    // for both limits to hold within a quarter of the shorter one (at most a second late).
    const sweepMs = Math.max(10, Math.min(1000, options.requestTimeoutMs / 4, options.sessionIdleMs / 2));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
    this.#sweeper.unref();
    this.#log = options.logger.child({ component: 'mcp' });
    this.#subscriptions = {
      subscribe: (server, uri) => this.#subscribe(server, uri),
      unsubscribe: (server, uri) => this.#unsubscribe(server, uri),
    };
    const { federation } = options;
    // list_changed only to sessions whose filtered view changed: a backend they are not granted
    // changing is none of their business (method-grants.ts, NOTIFICATIONS).
    const announce = (kind: ListKind) => () => {
      for (const session of this.#sessions.values()) {
        if (!session.mcp.viewChanged(kind)) continue;
        const server = session.mcp.server;
        const send =
          kind === 'tools'
            ? server.sendToolListChanged()
            : kind === 'prompts'
              ? server.sendPromptListChanged()
              : server.sendResourceListChanged();
        void send.catch(() => {});
      }
      this.#stateless.listChanged(kind);
    };
    this.#stateless = createStatelessEndpoint({
      now: () => this.#clock.now(),
      serverInfo: options.serverInfo,
      instructions: INSTRUCTIONS,
      capabilities: () => statelessCapabilities(federation.capabilities(), federation.offersModernTasks()),
      sessionFor: (identity) => this.#statelessSession(identity),
      relatedCall: (calls, backendId) => relatedRequest(calls, backendId, federation.catalog),
      ownsTask: (owner, taskId, grant) => {
        const entry = this.#tasks.find(owner, taskId);
        return entry !== undefined && entry.era === 'modern' && grant.allowsTool(entry);
      },
      // A listen stream is what a 2025 session's standalone GET stream was: as many are allowed.
      maxListeners: options.maxSessions,
      maxListenersPerClient: options.maxSessionsPerClient,
      logger: this.#log,
    });
    this.#listChanged = {
      tools: createThrottle(LIST_CHANGED_WINDOW_MS, announce('tools')),
      prompts: createThrottle(LIST_CHANGED_WINDOW_MS, announce('prompts')),
      resources: createThrottle(LIST_CHANGED_WINDOW_MS, announce('resources')),
    };
    federation.on('list-changed', (kind) => this.#listChanged[kind].trigger());
    // A backend's log message reaches only sessions granted read of that backend: on the stream of
    // the session's call to that backend when there is one (log-routing.ts), else the standalone one.
    federation.on('log', (backend, params) => {
      const logger = params.logger ? `${backend.name}/${params.logger}` : backend.name;
      const message = { method: 'notifications/message' as const, params: { ...params, logger } };
      for (const session of this.#sessions.values()) {
        if (!session.mcp.grant().allowsRead(backend.id)) continue;
        if (!session.mcp.wantsLog(params.level as LoggingLevel)) continue;
        const related = relatedRequest(session.transport.streamingRequests(), backend.id, federation.catalog);
        const options = related === undefined ? undefined : { relatedRequestId: related };
        // Refused by the SDK when the session was not offered logging (capabilities fixed at initialize).
        void session.mcp.server.notification(message, options).catch(() => {});
      }
      // A 2026-07-28 caller gets it on its call's own stream, when that request asked for logs.
      this.#stateless.log(backend.id, message as LogMessage);
    });
    // An update reaches subscribed sessions still granted read of the backend that sent it and of
    // the resource's owner (the grant may have been turned off since they subscribed).
    federation.on('resource-updated', (backend, uri) => {
      const owner = federation.catalog.resourceOwner(uri);
      for (const session of this.#sessions.values()) {
        if (!session.subscriptions.has(uri)) continue;
        const grant = session.mcp.grant();
        if (!grant.allowsRead(backend.id) || (owner && !grant.allowsRead(owner.id))) continue;
        void session.mcp.server.sendResourceUpdated({ uri }).catch(() => {});
      }
      this.#stateless.resourceUpdated(
        uri,
        (grant) => grant.allowsRead(backend.id) && (!owner || grant.allowsRead(owner.id)),
      );
    });
    federation.on('task-status', (backend, instance, task) => this.#taskStatus(backend.name, instance, task));
  }

  /**
   * A backend's task status notification, relayed to the task's owner only: the caller (subject
   * and client) its gateway id is bound to, under that id, and only while the caller's grant still
   * covers the tool that created the task (task-relay.ts). A task nobody here created, or one
   * expired, is nobody's business. 2025-11-25: `notifications/tasks/status` on the owner's sessions
   * offered tasks, on the stream of a tasks/result for the task when one is open, else the
   * session's GET stream (basic/utilities/tasks: clients expect task messages on any stream,
   * the GET stream included). 2026-07-28: `notifications/tasks` on the owner's listen streams that
   * name the task (stateless.ts).
   */
  #taskStatus(backend: string, instance: string, task: Record<string, unknown>): void {
    const entry = this.#tasks.byBackend(backend, instance, task.taskId);
    if (!entry) return;
    this.#tasks.renew(entry, ttlOf(entry.era, task));
    const params = withGatewayId(task, entry);
    const covered = (grant: { allowsTool(tool: Pick<TaskEntry, 'backendId' | 'access'>): boolean }) =>
      grant.allowsTool(entry);
    if (entry.era === 'modern') {
      this.#stateless.taskStatus(entry.owner, entry.id, params, covered);
      return;
    }
    for (const session of this.#sessions.values()) {
      if (taskOwner(session.identity) !== entry.owner || !covered(session.mcp.grant())) continue;
      if (!session.mcp.server.getCapabilities().tasks) continue;
      const related = session.transport
        .streamingRequests()
        .find((request) => request.method === 'tasks/result' && request.params?.taskId === entry.id);
      const message = { method: 'notifications/tasks/status', params };
      void session.mcp.server
        .notification(message, related === undefined ? undefined : { relatedRequestId: related.id })
        .catch(() => {});
    }
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * The owner changed what some client is granted: sessions whose lists now differ are told
   * list_changed, so an app sees a server turned on (or off) without signing in again.
   */
  grantsChanged(): void {
    for (const throttle of Object.values(this.#listChanged)) throttle.trigger();
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
      sendJsonRpcError(res, 503, -32000, 'Cortex Gateway is paused by its owner', singleRequestId(body));
      return;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = this.#sessions.get(sessionId);
      // Streamable HTTP: an unknown, expired or evicted session is 404, which tells the client to
      // re-initialize. A session belongs to the principal that created it; another token may not
      // ride on it, and is told the same.
      if (
        !session ||
        session.identity.subject !== identity.subject ||
        session.identity.clientId !== identity.clientId
      ) {
        sendJsonRpcError(res, 404, -32001, 'Session not found', singleRequestId(body));
        return;
      }
      if (req.method === 'POST') session.transport.handlePost(req, res, body);
      else if (req.method === 'GET') session.transport.handleGet(req, res);
      else await session.transport.handleDelete(req, res);
      return;
    }
    if (req.method === 'POST') {
      // No session: the 2026-07-28 revision, when the request claims it (basic/versioning); an
      // initialize that claims it is a method that revision removed (404), not a handshake.
      if (this.#closed) {
        sendJsonRpcError(res, 503, -32000, 'Gateway is shutting down', singleRequestId(body));
        return;
      }
      if (await this.#stateless.serve(req, res, body, identity)) return;
    }
    if (req.method !== 'POST' || !isInitialize(body)) {
      const message =
        'Bad Request: Mcp-Session-Id header is required (a session starts with a lone initialize request)';
      sendJsonRpcError(res, 400, -32000, message, singleRequestId(body));
      return;
    }
    if (this.#closed) {
      sendJsonRpcError(res, 503, -32000, 'Gateway is shutting down', singleRequestId(body));
      return;
    }
    // A faulty initialize opens no session: it is answered here, as the session would answer it.
    const checked = checkMessage(body);
    if (checked.kind !== 'request') {
      const { code, message } =
        checked.kind === 'refused' || checked.kind === 'dropped'
          ? checked.error
          : { code: -32600, message: 'Invalid Request: initialize is a request and needs an "id"' };
      sendJsonRpcError(res, 400, code, message, singleRequestId(body));
      return;
    }
    await this.#startSession(req, res, body, identity);
  }

  async #startSession(req: IncomingMessage, res: ServerResponse, body: unknown, identity: Identity): Promise<void> {
    this.#makeRoomFor(identity);
    const mcp = this.#sessionServer(identity);
    const transport = new NodeStreamableHttpTransport({
      sessionId: randomUUID(),
      now: () => this.#clock.now(),
      requestTimeoutMs: this.#options.requestTimeoutMs,
    });
    transport.direct = mcp.direct;
    transport.admit = mcp.admit;
    transport.sends = sendsNotification;
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

  /** The session server of a caller, for a 2025 session or a stateless caller alike. */
  #sessionServer(identity: Identity): SessionServer {
    return createSessionServer({
      federation: this.#options.federation,
      statuses: this.#options.statuses,
      serverInfo: this.#options.serverInfo,
      identity,
      ...(this.#options.liveScopes ? { scopes: () => this.#options.liveScopes!(identity) } : {}),
      ...(this.#options.maskError ? { maskError: this.#options.maskError } : {}),
      listPageSize: this.#options.listPageSize,
      subscriptions: this.#subscriptions,
      tasks: this.#tasks,
      instructions: INSTRUCTIONS,
      logger: this.#log,
      ...(this.#options.activity ? { activity: this.#options.activity } : {}),
    });
  }

  /**
   * A stateless caller's handlers: a session server kept per principal (its grant and list caches
   * are what a 2025 session of the same caller would have), bounded like the sessions are.
   */
  #statelessSession(identity: Identity): SessionServer {
    const key = `${identity.subject}\u0000${identity.clientId}`;
    let session = this.#statelessCallers.get(key);
    if (session) {
      this.#statelessCallers.delete(key);
    } else {
      session = this.#sessionServer(identity);
      if (this.#statelessCallers.size >= this.#options.maxSessions) {
        this.#statelessCallers.delete(this.#statelessCallers.keys().next().value!);
      }
    }
    this.#statelessCallers.set(key, session);
    return session;
  }

  /**
   * Keeps the session count within its caps, per client and overall: the newcomer is never
   * refused; the least recently used session (of that client, or of all) is closed instead, and
   * its client gets 404 next time, which makes it start a new session.
   */
  #makeRoomFor(identity: Identity): void {
    const { maxSessions, maxSessionsPerClient } = this.#options;
    const own = [...this.#sessions.values()].filter((s) => s.identity.clientId === identity.clientId);
    if (own.length >= maxSessionsPerClient) {
      this.#evict(leastRecentlyUsed(own), `its client has ${maxSessionsPerClient} sessions (maxSessionsPerClient)`);
    }
    if (this.#sessions.size >= maxSessions) {
      this.#evict(
        leastRecentlyUsed([...this.#sessions.values()]),
        `the gateway has ${maxSessions} sessions (maxSessions)`,
      );
    }
  }

  #evict(session: Session, why: string): void {
    this.#log.info(`closing the least recently used session: ${why}`, {
      session: session.id,
      client: session.identity.clientId,
    });
    void session.transport.close(`Session closed to make room for a newer one: ${why}`);
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

  #sweep(): void {
    this.#tasks.sweep();
    const now = this.#clock.now();
    this.#stateless.sweep();
    for (const session of this.#sessions.values()) {
      session.transport.expireRequests(now);
      if (!session.transport.isIdle(now, this.#options.sessionIdleMs)) continue;
      this.#log.info('closing idle session', { session: session.id, client: session.identity.clientId });
      void session.transport.close('Session closed: idle');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#stateless.close().catch(() => {});
    clearInterval(this.#sweeper);
    for (const throttle of Object.values(this.#listChanged)) throttle.close();
    const sessions = [...this.#sessions.values()];
    await Promise.allSettled(sessions.map((session) => session.transport.close('Cortex Gateway is shutting down')));
    this.#sessions.clear();
  }
}

/** Least recently used first; among those, one with no request in flight is closed before a busy one. */
function leastRecentlyUsed(sessions: Session[]): Session {
  let chosen = sessions[0]!;
  for (const session of sessions) {
    const busy = session.transport.inFlightCount > 0;
    const chosenBusy = chosen.transport.inFlightCount > 0;
    if (busy !== chosenBusy ? !busy : session.transport.lastActivity < chosen.transport.lastActivity) chosen = session;
  }
  return chosen;
}

/** A lone initialize request: the only message that may come without a session (batches cannot initialize). */
function isInitialize(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'initialize';
}

/**
 * What a 2026-07-28 caller is offered: what the backends declare (federation/capabilities.ts).
 * `resources.subscribe` means the `resourceSubscriptions` of `subscriptions/listen` (that revision
 * has no resources/subscribe), and `logging` the request's `_meta` log level (it has no
 * logging/setLevel); both are served by stateless.ts.
 */
function statelessCapabilities(capabilities: ServerCapabilities, tasks: boolean): StatelessCapabilities {
  return {
    tools: { listChanged: true },
    ...(capabilities.prompts && { prompts: { listChanged: true } }),
    ...(capabilities.resources && {
      resources: capabilities.resources.subscribe ? { listChanged: true, subscribe: true } : { listChanged: true },
    }),
    ...(capabilities.completions && { completions: {} }),
    ...(capabilities.logging && { logging: {} }),
    // The Tasks extension (SEP-2663) when a 2026-07-28 backend offers it; 2025 tasks (the
    // `tasks` capability) are not relayed across eras (docs/mcp-endpoint.md, "Tasks").
    ...(tasks && { extensions: { [TASKS_EXTENSION]: {} } }),
  };
}
