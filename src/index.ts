import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BackendPool, type ReconcileResult } from './backends/pool.js';
import type { BackendStatus } from './backends/types.js';
import { updateServers } from './config/file.js';
import type { GatewayConfig, ToolOverride } from './config/schema.js';
import type { ToolOverrideInput } from './api/contract.js';
import { Federation } from './federation/federation.js';
import { applyToolOverride, toolViews } from './federation/tool-views.js';
import { createRequestListener } from './http/app.js';
import { ConsoleSessions } from './http/console-auth.js';
import { backendScope, grantOf, requiredScope, supportedScopes } from './federation/scopes.js';
import type { Identity } from './mcp/builtins.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { AuthorizationServer, type ConsentPrompter, type Origin } from './oauth/authorization-server.js';
import type { ClientMetadataFetcher } from './oauth/client-metadata.js';
import type { ScopeGroup } from './oauth/consent-page.js';
import { KeyRing } from './oauth/keys.js';
import { OAuthStore } from './oauth/store.js';
import { systemClock, type Clock } from './shared/clock.js';
import { GatewayError } from './shared/errors.js';
import { silentLogger, type Logger } from './shared/logger.js';
import { PRODUCT, VERSION } from './version.js';

export type { GatewayConfig } from './config/schema.js';
export type { BackendStatus, BackendState } from './backends/types.js';

/** Platform facilities, passed in so Electron and headless (and tests) can each supply their own. */
export interface GatewayDeps {
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Environment the stdio children's safe subset and PATH come from. */
  env?: NodeJS.ProcessEnv;
  /** When the configured port is busy, try the next ones (the default port) instead of failing (an explicit one). */
  portFallback?: boolean;
  /** Built console to serve at /app. */
  consoleDir?: string;
  /** Where OAuth state (clients, grants, keys) persists; in memory when absent (tests). */
  dataDir?: string;
  /** How authorization requests are put to the owner; the browser consent page by default. */
  consentPrompter?: ConsentPrompter;
  /** Fetcher of Client ID Metadata Documents (tests point it at local servers). */
  clientMetadata?: ClientMetadataFetcher;
  /** The config file backends are edited in (console / API); without it the backend list is read-only. */
  configPath?: string;
}

export interface GatewayAddress {
  mcpUrl: string;
  consoleUrl: string;
  origin: string;
  port: number;
}

export interface GatewayEvents {
  'backend-state': [BackendStatus];
}

export interface Gateway {
  start(): Promise<GatewayAddress>;
  stop(): Promise<void>;
  backendStatuses(): BackendStatus[];
  restartBackend(name: string): Promise<void>;
  /** Applies a new configuration's backends live (gateway settings need a restart). */
  reconfigure(config: GatewayConfig): Promise<ReconcileResult>;
  readonly events: EventEmitter<GatewayEvents>;
  /** Owner credential for /api/* until the console login exists. */
  readonly ownerToken: string;
  readonly address: GatewayAddress | undefined;
  /** The OAuth authorization server, once started. */
  readonly authorizationServer: AuthorizationServer | undefined;
  /** A one-time link that signs the owner in to the console (15 minutes). */
  consoleLoginUrl(): string;
  /** A personal access token for scripts and header-only clients (`*` grants everything). */
  createPersonalToken(input: { name: string; scopes: string[]; ttlSeconds: number }): Promise<{
    id: string;
    token: string;
    expiresAt: number;
  }>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PORT_FALLBACK_TRIES = 10;

export function createGateway(initialConfig: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  // Backends can change at run time (console edits); gateway settings are fixed for the process.
  let config = initialConfig;
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const events = new EventEmitter<GatewayEvents>();
  const ownerToken = randomBytes(32).toString('base64url');
  const consoleSessions = new ConsoleSessions(clock);
  const clientInfo = { name: PRODUCT, version: VERSION };

  const pool = new BackendPool({
    config: initialConfig,
    logger,
    clock,
    clientInfo,
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.env ? { parentEnv: deps.env } : {}),
  });
  pool.on('state', (status) => events.emit('backend-state', status));
  const federation = new Federation(pool, logger);
  const endpoint = new McpEndpoint({
    federation,
    statuses: () => pool.statuses(),
    serverInfo: clientInfo,
    logger,
    listPageSize: config.gateway.listPageSize,
    sessionIdleMs: config.gateway.sessionIdleMs,
  });
  let server: Server | undefined;
  let address: GatewayAddress | undefined;
  let oauth: AuthorizationServer | undefined;

  /** Every origin a client may use to reach this listener: the loopback spellings and allowed hosts. */
  const origins = (): Origin[] => {
    if (!address) return [];
    const hosts = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${address!.port}`);
    hosts.push(...config.gateway.allowedHosts);
    return hosts.map((host) => ({ issuer: `http://${host}`, resource: `http://${host}/mcp` }));
  };
  const originOf = (req: IncomingMessage): Origin => {
    const host = (req.headers.host ?? '').toLowerCase();
    const all = origins();
    return all.find((o) => o.issuer === `http://${host}`) ?? all[0]!;
  };
  const scopeGroups = (): ScopeGroup[] =>
    config.backends
      .filter((b) => b.enabled)
      .map((b) => {
        const tools = federation.catalog.tools.filter((t) => t.backendId === b.id);
        const readTools = tools.filter((t) => t.access === 'read').length;
        return {
          backend: b.name,
          readScope: backendScope(b.id, 'read'),
          writeScope: backendScope(b.id, 'write'),
          readTools,
          writeTools: tools.length - readTools,
        };
      });
  /**
   * For a request outside the grant, the scope that would allow it (answered 403 by the HTTP
   * layer): tools need their read or write scope, prompts and resources their backend's read.
   */
  const scopeNeeded = (identity: Identity, body: unknown): string | undefined => {
    const grant = grantOf(identity.scopes);
    const catalog = federation.catalog;
    for (const message of Array.isArray(body) ? body : [body]) {
      const request = message as { method?: unknown; params?: { name?: unknown; uri?: unknown } } | null;
      const name = request?.params?.name;
      const uri = request?.params?.uri;
      if (request?.method === 'tools/call' && typeof name === 'string') {
        const tool = catalog.tool(name);
        if (tool && !grant.allowsTool(tool)) return requiredScope(tool);
      } else if (request?.method === 'prompts/get' && typeof name === 'string') {
        const prompt = catalog.prompt(name);
        if (prompt && !grant.allowsRead(prompt.backendId)) return backendScope(prompt.backendId, 'read');
      } else if (
        (request?.method === 'resources/read' || request?.method === 'resources/subscribe') &&
        typeof uri === 'string'
      ) {
        const owner = catalog.resourceOwner(uri);
        if (owner && !grant.allowsRead(owner.id)) return backendScope(owner.id, 'read');
      }
    }
    return undefined;
  };

  /** Console edits: change the file, then apply the result live. */
  async function editServers(path: string, change: (servers: Record<string, unknown>) => void) {
    const next = await updateServers(path, change);
    config = Object.freeze({ ...next, gateway: config.gateway });
    await pool.reconcile(config.backends);
    return pool.statuses();
  }

  const tools = () =>
    toolViews(
      pool.backends.map((b) => ({
        name: b.name,
        id: b.id,
        enabled: b.config.enabled,
        catalog: b.catalog,
        overrides: b.config.tools,
      })),
      federation.catalog,
    );

  /** One tool's override, written to the file and applied in place (the backend keeps running). */
  async function setToolOverride(path: string, backend: string, tool: string, change: ToolOverrideInput) {
    const live = pool.get(backend);
    if (!live) throw new GatewayError('not_found', `No backend named "${backend}"`);
    if (!live.catalog.tools.some((t) => t.name === tool)) {
      throw new GatewayError('not_found', `Backend "${backend}" has no tool named "${tool}"`);
    }
    await editServers(path, (servers) => {
      const entry = servers[backend];
      if (typeof entry !== 'object' || entry === null) {
        throw new GatewayError('not_found', `Backend "${backend}" is not in ${path}`);
      }
      const current = (entry as { tools?: Record<string, ToolOverride> }).tools;
      servers[backend] = { ...entry, tools: applyToolOverride(current, tool, change) };
    });
    // The federation rebuilds on the next turn; answer after it, so the caller's next list sees the change.
    await new Promise((resolve) => setImmediate(resolve));
    return tools();
  }

  async function buildListener() {
    const store = deps.dataDir ? await OAuthStore.open(join(deps.dataDir, 'oauth.json')) : OAuthStore.memory();
    const keys = await KeyRing.open(store);
    oauth = new AuthorizationServer({
      store,
      keys,
      clock,
      logger: logger.child({ component: 'oauth' }),
      origins,
      supportedScopes: () => supportedScopes(config),
      scopeGroups,
      ...(deps.consentPrompter ? { prompter: deps.consentPrompter } : {}),
      ...(deps.clientMetadata ? { clientMetadata: deps.clientMetadata } : {}),
    });
    const auth = oauth;
    return createRequestListener({
      endpoint,
      settings: config.gateway,
      logger,
      ownerToken,
      consoleSessions,
      statuses: () => pool.statuses(),
      namingNotes: () => federation.catalog.notes,
      stderr: (name) => pool.get(name)?.stderrLines(),
      version: VERSION,
      ...(deps.consoleDir ? { consoleDir: deps.consoleDir } : {}),
      ...(deps.configPath
        ? { editServers: (change: (servers: Record<string, unknown>) => void) => editServers(deps.configPath!, change) }
        : {}),
      restartBackend: async (name: string) => pool.get(name)?.restart(),
      tools,
      ...(deps.configPath
        ? {
            setToolOverride: (backend: string, tool: string, change: ToolOverrideInput) =>
              setToolOverride(deps.configPath!, backend, tool, change),
          }
        : {}),
      auth: {
        server: auth,
        originOf,
        supportedScopes: () => supportedScopes(config),
        scopeNeeded,
        identify: (token) => {
          const state = store.state;
          const name = state.clients[token.clientId]?.clientName ?? state.personalTokens[token.clientId]?.name;
          return {
            subject: token.subject,
            clientId: token.clientId,
            ...(name ? { clientName: name } : {}),
            scopes: token.scopes,
          };
        },
      },
    });
  }
  let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const candidate = createServer((req, res) => listener!(req, res));
      // Long tool calls stream over SSE; keep idle keep-alive sockets short so shutdown is quick.
      candidate.keepAliveTimeout = 5_000;
      candidate.requestTimeout = 0;
      candidate.once('error', reject);
      candidate.listen(port, config.gateway.host, () => {
        candidate.off('error', reject);
        resolve(candidate);
      });
    });

  return {
    events,
    ownerToken,
    get address() {
      return address;
    },
    backendStatuses: () => pool.statuses(),
    async reconfigure(next: GatewayConfig) {
      config = Object.freeze({ ...next, gateway: config.gateway });
      const changes = await pool.reconcile(config.backends);
      logger.info('backends reconfigured', { ...changes });
      return changes;
    },
    async restartBackend(name: string) {
      const backend = pool.get(name);
      if (!backend) throw new GatewayError('invalid_argument', `No backend named "${name}"`);
      await backend.restart();
    },
    async start() {
      if (address) return address;
      listener ??= await buildListener();
      const first = config.gateway.port;
      const tries = deps.portFallback && first !== 0 ? PORT_FALLBACK_TRIES : 1;
      for (let i = 0; i < tries; i++) {
        try {
          server = await listen(first + i);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
          if (i === tries - 1) {
            throw new GatewayError(
              'port_in_use',
              tries > 1
                ? `Ports ${first}-${first + i} on ${config.gateway.host} are all in use; pass --port 0 to pick any free port`
                : `Port ${first} on ${config.gateway.host} is in use; choose another with --port, or --port 0 for any free port`,
              { cause: error },
            );
          }
          logger.warn(`port ${first + i} is in use, trying ${first + i + 1}`);
        }
      }
      const bound = server!.address() as AddressInfo;
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      const displayHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
      const origin = `http://${displayHost}:${bound.port}`;
      address = { origin, port: bound.port, mcpUrl: `${origin}/mcp`, consoleUrl: `${origin}/app/` };
      // Listening first, backends after: the endpoint and builtins answer while backends connect.
      pool.start();
      logger.info('gateway listening', { mcpUrl: address.mcpUrl, backends: config.backends.length });
      return address;
    },
    async stop() {
      const closing = server;
      server = undefined;
      address = undefined;
      await endpoint.close();
      if (closing) {
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
      await pool.stop();
    },
    async [Symbol.asyncDispose]() {
      await this.stop();
    },
    get authorizationServer() {
      return oauth;
    },
    consoleLoginUrl() {
      if (!address) throw new GatewayError('not_running', 'Start the gateway before signing in to the console');
      return `${address.origin}/app/login?token=${consoleSessions.loginToken()}`;
    },
    async createPersonalToken(input) {
      if (!oauth || !address) throw new GatewayError('not_running', 'Start the gateway before creating tokens');
      return oauth.createPersonalToken({ ...input, origin: origins()[0]! });
    },
  };
}
