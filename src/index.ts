import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { SharedBackendOptions } from './backends/backend.js';
import { childrenDir, createChildRegistry, stopOrphans } from './backends/child-registry.js';
import { BackendPool, type ReconcileResult } from './backends/pool.js';
import type { BackendStatus } from './backends/types.js';
import { createConfigEditor, type ConfigEdit } from './config/editor.js';
import type { GatewayConfig, TunnelSettings } from './config/schema.js';
import type { PendingConsentView, TunnelStatus } from './api/contract.js';
import { Federation } from './federation/federation.js';
import { createConsoleApi, type ConsoleApi } from './api/service.js';
import { createRequestListener } from './http/app.js';
import { ConsoleSessions } from './http/console-auth.js';
import { exposureOf } from './http/exposure.js';
import { createTunnelSurface, TUNNEL_CORS_ORIGINS } from './http/tunnel-surface.js';
import { needOf, scopeNeeded as neededScope } from './federation/method-grants.js';
import { grantOf, supportedScopes } from './federation/scopes.js';
import type { Identity } from './mcp/builtins.js';
import { ActivityLog } from './mcp/activity.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { AuthorizationServer, type ConsentPrompter, type Origin } from './oauth/authorization-server.js';
import { sweepOAuthState } from './oauth/client-limits.js';
import type { ClientMetadataFetcher } from './oauth/client-metadata.js';
import { backendSecretStore, createKeySealer } from './oauth/key-sealing.js';
import { forgetRemovedServers, grantedScopes } from './oauth/grants.js';
import { KeyRing } from './oauth/keys.js';
import { OAuthStore } from './oauth/store.js';
import type { VerifiedToken } from './oauth/tokens.js';
import { systemClock, type Clock } from './shared/clock.js';
import { describeError, GatewayError } from './shared/errors.js';
import { silentLogger, type Logger } from './shared/logger.js';
import { createHttpServer } from './shared/http-server.js';
import { maskErrorText } from './shared/mask-error.js';
import { createSerialQueue } from './shared/serial-queue.js';
import { createConsoleSessionFile } from './store/console-sessions.js';
import { removeStaleTempFiles, type WriteFileAtomic } from './store/atomic.js';
import { createKeyFileSecretStore, createMemorySecretStore, type SecretStore } from './store/secrets.js';
import { CloudflareQuickTunnel } from './tunnel/cloudflare.js';
import { NgrokTunnel } from './tunnel/ngrok.js';
import { TunnelController } from './tunnel/controller.js';
import type { TunnelProvider } from './tunnel/provider.js';
import { PRODUCT, VERSION } from './version.js';

export type { GatewayConfig } from './config/schema.js';
export type { BackendStatus, BackendState } from './backends/types.js';

const callerOf = (identity: Identity) => ({
  clientId: identity.clientId,
  ...(identity.clientName !== undefined ? { clientName: identity.clientName } : {}),
});

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
  /**
   * Where OAuth state (clients, grants, keys) and console sessions persist, and running stdio
   * children are recorded (so a crashed run's are stopped at the next start); in memory and
   * unrecorded when absent (tests).
   */
  dataDir?: string;
  /**
   * How the owner runs the CLI on this machine, as the sign-in pages and the console print it
   * (`resolveCliCommand` in cli-command.ts computes it). Default: `cortex-gateway`.
   */
  cliCommand?: string;
  /**
   * Where sign-ins on the local listener may be approved (the page of a browser signed in to the
   * console, or only the approval list) and who is told one waits. Listeners reachable from
   * elsewhere always use the approval list, whatever this says.
   */
  consentPrompter?: ConsentPrompter;
  /** Fetcher of Client ID Metadata Documents (tests point it at local servers). */
  clientMetadata?: ClientMetadataFetcher;
  /** The config file backends are edited in (console / API); without it the backend list is read-only. */
  configPath?: string;
  /**
   * Backend secrets (env values, headers) the config file refers to as `${secret:id}`. Default: the
   * key-file store in `dataDir`, or memory without one (tests).
   */
  secretStore?: SecretStore;
  /**
   * Writes the OAuth state and the default secret store's files (a test seam: tests pass one that
   * fails like a full disk where they cannot mount a small file system). Default: writeFileAtomic.
   */
  writeFile?: WriteFileAtomic;
  /** Where log lines go, as the settings page shows it (the desktop app's log folder). Default: standard error. */
  logLocation?: string;
  /**
   * The public tunnel's provider. Default: from `gateway.tunnel` (a cloudflared quick tunnel). The
   * slot for providers that are not bundled, such as ngrok through its SDK.
   */
  tunnelProvider?: TunnelProvider;
}

export interface GatewayAddress {
  mcpUrl: string;
  consoleUrl: string;
  origin: string;
  port: number;
}

export interface GatewayEvents {
  'backend-state': [BackendStatus];
  /** The owner paused (true) or resumed (false) serving clients. */
  paused: [boolean];
  'tunnel-state': [TunnelStatus];
  /** A sign-in waits in the owner's approval list (any listener): notify, with its code. */
  'consent-requested': [PendingConsentView];
  /** The approval list changed (joined, decided, expired): recount with `authorizationServer.pendingConsents()`. */
  'approvals-changed': [];
}

/** The public tunnel for claude.ai connectors. */
export interface GatewayTunnel {
  /** Starts it (the gateway must be running) and resolves once it is up or has failed: see `state`. */
  start(): Promise<TunnelStatus>;
  stop(): Promise<TunnelStatus>;
  status(): TunnelStatus;
}

export interface Gateway {
  /**
   * Listens, then starts the backends, each connecting on its own (start never waits for them).
   * `backends: 'later'`: listen only, and start them with `startBackends()` (the host publishes
   * where the gateway listens first: spawning children competes with that for the event loop).
   */
  start(options?: { backends?: 'now' | 'later' }): Promise<GatewayAddress>;
  /** Starts the backends of a gateway started with `backends: 'later'`; once. */
  startBackends(): void;
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
  readonly tunnel: GatewayTunnel;
  /** The owner's operations (src/api/service.ts): what the console, the CLI and the tray call. */
  readonly api: ConsoleApi;
  /** Paused: every MCP request is answered 503 (clients retry later); backends and sessions are kept. */
  readonly paused: boolean;
  setPaused(paused: boolean): void;
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
/** Signed-in console sessions in the data folder (hashes and expiry only; mode 0600). */
export const CONSOLE_SESSIONS_FILE = 'console-sessions.json';
/** The OAuth store's folder in the data folder: a file per collection and a manifest (src/oauth/store.ts). */
export const OAUTH_DIR = 'oauth';

/** The tunnel provider `gateway.tunnel` names, running the user's own cloudflared or ngrok agent. */
function configuredTunnelProvider(
  settings: TunnelSettings,
  context: { logger: Logger; clock: Clock; deps: GatewayDeps },
): TunnelProvider {
  const { deps } = context;
  const executable = settings.provider === 'ngrok' ? settings.ngrokPath : settings.cloudflaredPath;
  const options = {
    logger: context.logger,
    clock: context.clock,
    ...(executable ? { executable } : {}),
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  };
  if (settings.provider === 'ngrok') {
    return new NgrokTunnel({ ...options, ...(settings.domain ? { domain: settings.domain } : {}) });
  }
  return new CloudflareQuickTunnel(options);
}

export function createGateway(initialConfig: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  // Backends can change at run time (console edits); gateway settings are fixed for the process.
  let config = initialConfig;
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const events = new EventEmitter<GatewayEvents>();
  const ownerToken = randomBytes(32).toString('base64url');
  const cliCommand = deps.cliCommand ?? 'cortex-gateway';
  const writeOptions = deps.writeFile ? { writeFile: deps.writeFile } : {};
  // Signed-in console sessions survive a restart in the data folder (hashes and expiry only).
  const consoleSessions = new ConsoleSessions({
    clock,
    logger: logger.child({ component: 'console-auth' }),
    ...(deps.dataDir
      ? { store: createConsoleSessionFile(join(deps.dataDir, CONSOLE_SESSIONS_FILE), { logger, ...writeOptions }) }
      : {}),
  });
  const clientInfo = { name: PRODUCT, version: VERSION };

  const allSecrets =
    deps.secretStore ??
    (deps.dataDir ? createKeyFileSecretStore(deps.dataDir, writeOptions) : createMemorySecretStore());
  // Backends and config edits get the backend secrets only; the gateway's own (the key sealing
  // the OAuth signing keys) stays out of their reach.
  const secrets = backendSecretStore(allSecrets);
  const children = deps.dataDir
    ? createChildRegistry({ dir: childrenDir(deps.dataDir), logger: logger.child({ component: 'children' }) })
    : undefined;
  // Given to every backend alike: the pool's, and the one a test of an unsaved entry connects.
  const backendOptions: SharedBackendOptions = {
    logger,
    clock,
    clientInfo,
    secrets,
    children,
    // Stdio backends start in a folder of their own, never in the gateway's working directory.
    ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
    ...(deps.configPath ? { configDir: dirname(deps.configPath) } : {}),
    random: deps.random,
    parentEnv: deps.env,
  };
  const pool = new BackendPool({ ...backendOptions, config: initialConfig });
  pool.on('state', (status) => events.emit('backend-state', status));
  // Every change of the configuration takes its turn here: owner edits (file, then live) and
  // reconfigure(). Each applies on the result of the one before, so none is lost or reordered.
  const serial = createSerialQueue();
  /** Inside an edit's turn: the new backends become the running ones (gateway settings wait for a restart). */
  const applyEdit = async (edit: ConfigEdit) => {
    config = Object.freeze({ ...edit.config, gateway: config.gateway });
    await pool.reconcile(config.backends, new Set(edit.secretsChanged));
    await forgetRemovedGrants();
  };
  /** OAuth state (clients, consents, keys), once the listener is built. */
  let oauthStore: OAuthStore | undefined;
  /**
   * Grants to servers no longer configured are forgotten (grants.ts), so a server added later under
   * the same name starts off for every application. A failed write leaves them (they grant nothing
   * while the server is gone) and does not fail the edit that removed the server.
   */
  const forgetRemovedGrants = async () => {
    if (!oauthStore) return;
    try {
      await forgetRemovedServers(oauthStore, new Set(config.backends.map((b) => b.id)));
    } catch (error) {
      logger.warn('could not forget the grants of removed servers', { error: describeError(error) });
    }
  };
  const editor = deps.configPath
    ? createConfigEditor({
        path: deps.configPath,
        secrets,
        apply: applyEdit,
        queue: serial,
        logger: logger.child({ component: 'config' }),
      })
    : undefined;
  const federation = new Federation(pool, logger);
  const activity = new ActivityLog({ recordArguments: config.gateway.activityArguments, now: () => clock.now() });
  /**
   * A backend's error text as a client may see it (`whoami`): its secret values masked, those from
   * the secret store (the backend knows them) and the plain ones in its entry, then anything
   * credential-shaped.
   */
  const maskError = (name: string, text: string): string => {
    const entry = config.backends.find((b) => b.name === name);
    const plain = entry ? Object.values(entry.type === 'stdio' ? entry.env : entry.headers) : [];
    return maskErrorText(pool.get(name)?.maskSecrets(text) ?? text, plain);
  };
  const endpoint = new McpEndpoint({
    activity,
    federation,
    statuses: () => pool.statuses(),
    serverInfo: clientInfo,
    logger,
    listPageSize: config.gateway.listPageSize,
    sessionIdleMs: config.gateway.sessionIdleMs,
    requestTimeoutMs: config.gateway.requestTimeoutMs,
    maxSessions: config.gateway.maxSessions,
    maxSessionsPerClient: config.gateway.maxSessionsPerClient,
    clock,
    // What a session's caller has now: the owner's current decision (grants.ts), so a change in the
    // console applies to open sessions at once.
    liveScopes: (identity) => (oauthStore ? grantedScopes(oauthStore.state, identity) : identity.scopes),
    maskError,
  });
  let server: Server | undefined;
  let address: GatewayAddress | undefined;
  let oauth: AuthorizationServer | undefined;

  /** Every origin a client may use to reach this listener: the loopback spellings and allowed hosts. */
  const origins = (): Origin[] => {
    if (!address) return [];
    const hosts = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${address!.port}`);
    hosts.push(...config.gateway.allowedHosts);
    return hosts.map((host) => ({ issuer: `http://${host}`, resource: `http://${host}/mcp`, listener: 'local' }));
  };
  const originOf = (req: IncomingMessage): Origin => {
    const host = (req.headers.host ?? '').toLowerCase();
    const all = origins();
    return all.find((o) => o.issuer === `http://${host}`) ?? all[0]!;
  };

  // The public tunnel: its own listener (built with the others in buildListener) and provider.
  let tunnelListener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const tunnel = new TunnelController({
    provider: deps.tunnelProvider ?? configuredTunnelProvider(config.gateway.tunnel, { logger, clock, deps }),
    handler: (req, res) => tunnelListener!(req, res),
    port: config.gateway.tunnel.port,
    limits: config.gateway,
    logger: logger.child({ component: 'tunnel' }),
    clock,
  });
  tunnel.events.on('state', (status) => events.emit('tunnel-state', status));
  const tunnelOrigin = (): Origin | undefined => {
    const url = tunnel.publicOrigin();
    return url ? { issuer: url, resource: `${url}/mcp`, listener: 'tunnel' } : undefined;
  };
  /** What the authorization server issues for and accepts: the local origins and the tunnel's. */
  const allOrigins = (): Origin[] => {
    const publicOrigin = tunnelOrigin();
    return publicOrigin ? [...origins(), publicOrigin] : origins();
  };
  // Every sign-in waits in the owner's approval list. On a listener only this machine reaches, a
  // browser signed in to the console may also approve on the page. Where a request may come from
  // elsewhere (the tunnel; this listener with allowedHosts or bound to a non-loopback address),
  // only the list decides: the requester there is anyone.
  const exposed = exposureOf(config.gateway).length > 0;
  const prompter: ConsentPrompter = {
    mode: (origin) =>
      !exposed && origin.listener !== 'tunnel' && origins().some((o) => o.issuer === origin.issuer)
        ? (deps.consentPrompter?.mode(origin) ?? 'page')
        : 'owner',
    requested: (request) => {
      deps.consentPrompter?.requested?.(request);
      events.emit('consent-requested', request);
    },
    changed: () => {
      deps.consentPrompter?.changed?.();
      events.emit('approvals-changed');
    },
  };
  /**
   * For a request outside the grant, the scope that would allow it (answered 403 by the HTTP
   * layer), from the method table (method-grants.ts). Requests it lacks pass on to the session,
   * which refuses them per message (-32601), so one in a batch does not fail the others.
   */
  const scopeNeeded = (identity: Identity, body: unknown): string | undefined => {
    const grant = grantOf(identity.scopes);
    const catalog = federation.catalog;
    for (const message of Array.isArray(body) ? body : [body]) {
      const request = message as { method?: unknown; params?: unknown; id?: unknown } | null;
      if (typeof request?.method !== 'string' || !('id' in request)) continue;
      const params = typeof request.params === 'object' && request.params !== null ? request.params : undefined;
      const need = needOf(request.method, params as Record<string, unknown> | undefined, catalog);
      const needed = neededScope(grant, need);
      if (!needed) continue;
      if (need?.kind === 'backend' && need.target === 'tool') {
        // Refused before any session sees it (HTTP 403), so recorded here for the Activity page.
        activity.start({ ...callerOf(identity), tool: need.name, backend: need.backend })('refused', `needs ${needed}`);
      }
      return needed;
    }
    return undefined;
  };

  function setPaused(paused: boolean): void {
    if (endpoint.paused === paused) return;
    endpoint.paused = paused;
    logger.info(paused ? 'gateway paused: clients are refused until resumed' : 'gateway resumed');
    events.emit('paused', paused);
  }

  /** The owner's operations, for every front-end: the console (HTTP), the CLI, the tray. */
  const api: ConsoleApi = createConsoleApi({
    version: VERSION,
    cliCommand,
    clock,
    logger,
    config: () => config,
    ...(deps.configPath ? { configPath: deps.configPath } : {}),
    ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
    ...(deps.logLocation ? { logLocation: deps.logLocation } : {}),
    env: deps.env ?? process.env,
    pool,
    federation,
    ...(editor ? { editor } : {}),
    activity,
    backendOptions,
    oauth: () => (oauth && oauthStore ? { server: oauth, store: oauthStore } : undefined),
    address: () => address,
    origins,
    grantsChanged: () => endpoint.grantsChanged(),
    paused: () => endpoint.paused,
    setPaused,
    tunnel: {
      status: () => gatewayTunnel.status(),
      start: () => gatewayTunnel.start(),
      stop: () => gatewayTunnel.stop(),
    },
    // The next tunnel start uses the saved settings; a provider injected by the embedder stays.
    ...(deps.tunnelProvider
      ? {}
      : {
          tunnelSettingsSaved: (saved: TunnelSettings) =>
            tunnel.useProvider(configuredTunnelProvider(saved, { logger, clock, deps })),
        }),
    loginToken: () => consoleSessions.loginToken(),
  });

  /** Temp files of writes a killed process never finished (kill -9, power loss), in our folders. */
  async function removeLeftovers() {
    const removed = [
      ...(deps.dataDir ? await removeStaleTempFiles(deps.dataDir) : []),
      ...(deps.configPath
        ? await removeStaleTempFiles(dirname(deps.configPath), { only: basename(deps.configPath) })
        : []),
    ];
    if (removed.length > 0) logger.info('removed temp files of unfinished writes', { files: removed.join(', ') });
  }

  async function buildListener() {
    await removeLeftovers();
    // The signing keys' private parts are sealed with the secret store, never written in clear.
    const sealer = createKeySealer(allSecrets);
    const store = deps.dataDir
      ? await OAuthStore.open(join(deps.dataDir, OAUTH_DIR), {
          ...writeOptions,
          // Earlier versions kept everything in one file: moved in on the first start.
          legacyFile: join(deps.dataDir, 'oauth.json'),
          sealPrivateKey: (jwk, kid) => sealer.seal(jwk, kid),
          now: () => clock.now(),
        })
      : OAuthStore.memory();
    const keys = await KeyRing.open(store, { sealer, now: clock.now() });
    // Clients unused past their time, dead grants and expired revocations go (also on each registration).
    await store
      .update((state) => void sweepOAuthState(state, clock.now()))
      .catch((error: unknown) =>
        logger.warn('could not remove expired OAuth clients', { error: describeError(error) }),
      );
    oauthStore = store;
    // Servers removed while the gateway was stopped (a hand edit of the file) lose their grants too.
    await forgetRemovedGrants();
    await consoleSessions.load();
    oauth = new AuthorizationServer({
      store,
      keys,
      clock,
      logger: logger.child({ component: 'oauth' }),
      origins: allOrigins,
      supportedScopes: () => supportedScopes(config),
      scopeGroups: () => api.scopeGroups(),
      prompter,
      cliCommand,
      ...(deps.clientMetadata ? { clientMetadata: deps.clientMetadata } : {}),
    });
    const auth = oauth;
    // Who a token's holder is, and what it may use now: the owner's current decision for an OAuth
    // client, a personal token's own scopes (grants.ts). The one place a token becomes a grant.
    const identify = (token: VerifiedToken): Identity => {
      const state = store.state;
      const name = state.clients[token.clientId]?.clientName ?? state.personalTokens[token.clientId]?.name;
      return {
        subject: token.subject,
        clientId: token.clientId,
        ...(name ? { clientName: name } : {}),
        scopes: grantedScopes(state, token),
      };
    };
    tunnelListener = createTunnelSurface(
      createRequestListener({
        endpoint,
        settings: {
          get allowedHosts() {
            const url = tunnel.publicOrigin();
            return url ? [new URL(url).host] : [];
          },
          get allowedOrigins() {
            const url = tunnel.publicOrigin();
            return url ? [url, ...TUNNEL_CORS_ORIGINS] : [...TUNNEL_CORS_ORIGINS];
          },
          maxBodyBytes: config.gateway.maxBodyBytes,
        },
        // Pages arrive here only under the public origin, which is in the allowed list above.
        ownOrigins: () => [],
        logger: logger.child({ listener: 'tunnel' }),
        // No owner surface here: the surface refuses /api and /app, and this listener has neither a
        // usable owner token nor console sessions in case a route ever slipped through.
        ownerToken: randomBytes(32).toString('base64url'),
        consoleSessions: new ConsoleSessions({ clock }),
        version: VERSION,
        auth: {
          server: auth,
          originOf: () =>
            tunnelOrigin() ?? { issuer: 'https://invalid', resource: 'https://invalid/mcp', listener: 'tunnel' },
          audiences: () => (tunnelOrigin() ? [tunnelOrigin()!.resource] : []),
          supportedScopes: () => supportedScopes(config),
          scopeNeeded,
          identify,
        },
      }),
      { publicOrigin: () => tunnel.publicOrigin(), corsOrigins: TUNNEL_CORS_ORIGINS, logger },
    );
    return createRequestListener({
      endpoint,
      settings: config.gateway,
      mcpCors: true,
      logger,
      ownerToken,
      consoleSessions,
      cliCommand,
      version: VERSION,
      ...(deps.consoleDir ? { consoleDir: deps.consoleDir } : {}),
      api,
      auth: {
        server: auth,
        originOf,
        // Tokens minted for the tunnel's public URL are not valid here, and the reverse (see above).
        audiences: () => origins().map((o) => o.resource),
        supportedScopes: () => supportedScopes(config),
        scopeNeeded,
        identify,
      },
    });
  }
  let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const gatewayTunnel: GatewayTunnel = {
    async start() {
      if (!address) throw new GatewayError('not_running', 'Start the gateway before the tunnel');
      return tunnel.start();
    },
    stop: () => tunnel.stop(),
    status: () => tunnel.status(),
  };

  let backendsStarted = false;
  function startBackends(): void {
    if (backendsStarted) return;
    backendsStarted = true;
    pool.start();
  }

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const candidate = createHttpServer(
        (req, res) => listener!(req, res),
        config.gateway,
        logger.child({ component: 'http' }),
      );
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
    reconfigure: (next: GatewayConfig) =>
      // In turn with the owner's edits: never in the middle of one being written and applied.
      serial(async () => {
        config = Object.freeze({ ...next, gateway: config.gateway });
        const changes = await pool.reconcile(config.backends);
        await forgetRemovedGrants();
        logger.info('backends reconfigured', { ...changes });
        return changes;
      }),
    async restartBackend(name: string) {
      const backend = pool.get(name);
      if (!backend) throw new GatewayError('invalid_argument', `No backend named "${name}"`);
      await backend.restart();
    },
    async start(options = {}) {
      if (address) return address;
      // Children a crashed run left behind are stopped before any backend spawns, or a server that
      // ignores stdin EOF would run twice. Meanwhile the listener comes up.
      const orphans = deps.dataDir
        ? stopOrphans({ dir: childrenDir(deps.dataDir), logger: logger.child({ component: 'children' }) }).catch(
            (error: unknown) =>
              logger.warn('could not check for leftover backend children', { error: describeError(error) }),
          )
        : undefined;
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
      await orphans;
      if (options.backends !== 'later') startBackends();
      logger.info('gateway listening', { mcpUrl: address.mcpUrl, backends: config.backends.length });
      // In the background: a slow or failing tunnel never holds up the local gateway.
      if (config.gateway.tunnel.autostart) void tunnel.start();
      return address;
    },
    startBackends,
    async stop() {
      // The tunnel first: no new public traffic, and its child process ends with the gateway.
      await tunnel.stop();
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
    tunnel: gatewayTunnel,
    api,
    get paused() {
      return endpoint.paused;
    },
    setPaused,
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
