import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import type { SharedBackendOptions } from './backends/backend.js';
import { childrenDir, createChildRegistry, stopOrphans } from './backends/child-registry.js';
import { BackendPool } from './backends/pool.js';
import { createConfigEditor, type ConfigEdit } from './config/editor.js';
import type { GatewayConfig, TunnelSettings } from './config/schema.js';
import { createConsoleApi, type ConsoleApi } from './api/service.js';
import { Federation } from './federation/federation.js';
import type { Gateway, GatewayAddress, GatewayDeps, GatewayEvents, GatewayTunnel } from './gateway.js';
import { createListeners, type LocalAppOptions } from './http/listeners.js';
import { ConsoleSessions } from './http/console-auth.js';
import { exposureOf } from './http/exposure.js';
import { createScopePolicy } from './federation/scope-policy.js';
import { supportedScopes } from './federation/scopes.js';
import type { Identity } from './mcp/builtins.js';
import { ActivityLog } from './mcp/activity.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { AuthorizationServer } from './oauth/server.js';
import { sweepOAuthState } from './oauth/client-limits.js';
import { createConsentPolicy } from './oauth/consent-policy.js';
import { backendSecretStore, createKeySealer } from './oauth/key-sealing.js';
import { forgetRemovedServers, grantedScopes } from './oauth/owner-grants.js';
import { KeyRing } from './oauth/keys.js';
import { OAuthStore } from './oauth/store.js';
import type { VerifiedToken } from './oauth/tokens.js';
import { systemClock } from './shared/clock.js';
import { describeError, GatewayError } from './shared/errors.js';
import { silentLogger } from './shared/logger.js';
import { maskErrorText } from './shared/mask-error.js';
import { createSerialQueue } from './shared/serial-queue.js';
import { createConsoleSessionFile } from './store/console-sessions.js';
import { removeLeftovers } from './store/leftovers.js';
import { createKeyFileSecretStore, createMemorySecretStore } from './store/secrets.js';
import { configuredTunnelProvider } from './tunnel/configured-provider.js';
import { TunnelController } from './tunnel/controller.js';
import { PRODUCT, VERSION } from './version.js';

export type { GatewayConfig } from './config/schema.js';
export type { BackendStatus, BackendState } from './backends/types.js';
export type { GatewayAddress, Gateway, GatewayDeps, GatewayEvents, GatewayTunnel } from './gateway.js';
export { startGatewayInstance, type GatewayInstance, type StartGatewayInstanceOptions } from './host.js';

/** Signed-in console sessions in the data folder (hashes and expiry only; mode 0600). */
export const CONSOLE_SESSIONS_FILE = 'console-sessions.json';
/** The OAuth store's folder in the data folder: a file per collection and a manifest (src/oauth/store.ts). */
export const OAUTH_DIR = 'oauth';

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
  // Requests outside the caller's grant are answered 403 before a session sees them; refused tool
  // calls are recorded here for the Activity page, since no session will.
  const scopeNeeded = createScopePolicy({
    catalog: () => federation.catalog,
    refused: ({ caller, tool, backend, needed }) =>
      activity.start({
        clientId: caller.clientId,
        ...(caller.clientName !== undefined ? { clientName: caller.clientName } : {}),
        tool,
        backend,
      })('refused', `needs ${needed}`),
  });
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
  let address: GatewayAddress | undefined;
  let oauth: AuthorizationServer | undefined;

  // The local listener and the tunnel's (src/http/listeners.ts); the tunnel controller binds the latter.
  const listeners = createListeners({
    settings: config.gateway,
    portFallback: deps.portFallback === true,
    tunnelOrigin: () => tunnel.publicOrigin(),
    logger,
    clock,
  });
  const { origins, allOrigins } = listeners;
  const tunnel = new TunnelController({
    provider: deps.tunnelProvider ?? configuredTunnelProvider(config.gateway.tunnel, { logger, clock, deps }),
    handler: listeners.tunnelHandler,
    port: config.gateway.tunnel.port,
    limits: config.gateway,
    logger: logger.child({ component: 'tunnel' }),
    clock,
  });
  tunnel.events.on('state', (status) => events.emit('tunnel-state', status));
  const prompter = createConsentPolicy({
    exposed: exposureOf(config.gateway).length > 0,
    localOrigins: origins,
    ...(deps.consentPrompter ? { embedder: deps.consentPrompter } : {}),
    requested: (request) => events.emit('consent-requested', request),
    changed: () => events.emit('approvals-changed'),
  });
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

  async function buildListener() {
    await removeLeftovers({ dataDir: deps.dataDir, configPath: deps.configPath, logger });
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
    const app: LocalAppOptions = {
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
    };
    listeners.build(app, { server: oauth, identify, scopeNeeded, supportedScopes: () => supportedScopes(config) });
  }
  let built = false;

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

  return {
    events,
    ownerToken,
    api,
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
      if (!built) {
        await buildListener();
        built = true;
      }
      address = await listeners.listen();
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
      address = undefined;
      // Sessions end while their connections are open, then the connections close.
      await listeners.close(() => endpoint.close());
      await pool.stop();
    },
    async [Symbol.asyncDispose]() {
      await this.stop();
    },
    get authorizationServer() {
      return oauth;
    },
    tunnel: gatewayTunnel,
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

// The desktop shell's surface: electron/ imports src/ only through this module and the contract.
export { CLI_NAME, isOnPath, resolveCliCommand, SHIM_MARKER, shellWord, shimPath } from './shared/cli-command.js';
export { connectClient, detectClient, type ClientAppId, type ClientEnvironment } from './clients/index.js';
export { defaultDataDir, loadConfig, parseConfig } from './config/load.js';
export { describeError, GatewayError, isGatewayError } from './shared/errors.js';
export { createFileLogger, type FileLogger } from './shared/file-logger.js';
export { createConsoleLogger, silentLogger, type Logger, type LogLevel } from './shared/logger.js';
export { writeFileAtomic } from './store/atomic.js';
export { fileSystemError } from './store/fs-errors.js';
export { InstanceLockedError, type InstanceLockRecord } from './store/instance-lock.js';
export {
  createFileSecretStore,
  createKeyFileCipher,
  createKeyFileSecretStore,
  SECRETS_FILE_NAME,
  SECRETS_KEY_FILE_NAME,
  type SecretCipher,
  type SecretStore,
} from './store/secrets.js';
export { VERSION } from './version.js';
