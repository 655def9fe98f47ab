import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { GatewayConfig } from './config/schema.js';
import { createConsoleApi, type ConsoleApi } from './api/service.js';
import { supportedScopes } from './federation/scopes.js';
import type { Gateway, GatewayDeps, GatewayEvents } from './gateway.js';
import { createGatewayLifecycle } from './gateway-lifecycle.js';
import { openConsoleSessions } from './http/console-auth.js';
import { identifyWith } from './http/identify.js';
import type { AuthorizationServer } from './oauth/server.js';
import { openAuthorization } from './oauth/boot.js';
import type { OAuthStore } from './oauth/store.js';
import { systemClock } from './shared/clock.js';
import { GatewayError } from './shared/errors.js';
import { silentLogger } from './shared/logger.js';
import { removeLeftovers } from './store/leftovers.js';
import { PRODUCT, VERSION } from './version.js';
import { wireBackends } from './wiring/backends.js';
import { createConfigRuntime } from './wiring/config-runtime.js';
import { wireEndpoint } from './wiring/endpoint.js';
import { wireListeners } from './wiring/listeners.js';

export type { GatewayConfig } from './config/schema.js';
export type { BackendStatus, BackendState } from './backends/types.js';
export type { GatewayAddress, Gateway, GatewayDeps, GatewayEvents, GatewayTunnel } from './gateway.js';
export { startGatewayInstance, type GatewayInstance, type StartGatewayInstanceOptions } from './host.js';
export { OAUTH_DIR } from './oauth/boot.js';
export { CONSOLE_SESSIONS_FILE } from './http/console-auth.js';

export function createGateway(initialConfig: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const events = new EventEmitter<GatewayEvents>();
  const ownerToken = randomBytes(32).toString('base64url');
  const cliCommand = deps.cliCommand ?? 'cortex-gateway';
  // Signed-in console sessions survive a restart in the data folder (hashes and expiry only).
  const consoleSessions = openConsoleSessions({ dataDir: deps.dataDir, writeFile: deps.writeFile, clock, logger });
  const clientInfo = { name: PRODUCT, version: VERSION };
  const { allSecrets, secrets, backendOptions, pool, maskError } = wireBackends(initialConfig, () => config(), deps, {
    logger,
    clock,
    clientInfo,
  });
  pool.on('state', (status) => events.emit('backend-state', status));
  /** OAuth state (clients, consents, keys) and its server, once the listener is built. */
  let oauthStore: OAuthStore | undefined;
  let oauth: AuthorizationServer | undefined;
  const runtime = createConfigRuntime({
    initial: initialConfig,
    pool,
    secrets,
    configPath: deps.configPath,
    oauthStore: () => oauthStore,
    logger,
  });
  const { config, editor } = runtime;
  const { gateway: settings } = initialConfig;
  const { federation, activity, scopeNeeded, endpoint, setPaused } = wireEndpoint({
    settings,
    pool,
    logger,
    clock,
    clientInfo,
    maskError,
    events,
    oauthStore: () => oauthStore,
  });
  const { listeners, tunnel, prompter, tunnelSettingsSaved } = wireListeners(settings, deps, { logger, clock, events });
  const { origins, allOrigins } = listeners;

  /** The owner's operations, for every front-end: the console (HTTP), the CLI, the tray. */
  const api: ConsoleApi = createConsoleApi({
    version: VERSION,
    cliCommand,
    clock,
    logger,
    config,
    pool,
    federation,
    activity,
    backendOptions,
    origins,
    ...(deps.configPath ? { configPath: deps.configPath } : {}),
    ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
    ...(deps.logLocation ? { logLocation: deps.logLocation } : {}),
    env: deps.env ?? process.env,
    ...(editor ? { editor } : {}),
    oauth: () => (oauth && oauthStore ? { server: oauth, store: oauthStore } : undefined),
    address: () => life.address,
    grantsChanged: () => endpoint.grantsChanged(),
    paused: () => endpoint.paused,
    setPaused,
    tunnel: { status: () => life.tunnel.status(), start: () => life.tunnel.start(), stop: () => life.tunnel.stop() },
    ...(tunnelSettingsSaved ? { tunnelSettingsSaved } : {}),
    loginToken: () => consoleSessions.loginToken(),
  });

  async function buildListener() {
    await removeLeftovers({ dataDir: deps.dataDir, configPath: deps.configPath, logger });
    const { store, server } = await openAuthorization({
      dataDir: deps.dataDir,
      secrets: allSecrets,
      writeFile: deps.writeFile,
      clock,
      cliCommand,
      prompter,
      logger: logger.child({ component: 'oauth' }),
      origins: allOrigins,
      supportedScopes: () => supportedScopes(config()),
      scopeGroups: () => api.scopeGroups(),
      ...(deps.clientMetadata ? { clientMetadata: deps.clientMetadata } : {}),
      opened: async (opened) => {
        oauthStore = opened;
        // Servers removed while the gateway was stopped (a hand edit of the file) lose their grants too.
        await runtime.forgetRemovedGrants();
        await consoleSessions.load();
      },
    });
    oauth = server;
    const app = { endpoint, settings, mcpCors: true, logger, ownerToken, consoleSessions, cliCommand, api };
    listeners.build(
      { ...app, version: VERSION, ...(deps.consoleDir ? { consoleDir: deps.consoleDir } : {}) },
      { server, identify: identifyWith(store), scopeNeeded, supportedScopes: () => supportedScopes(config()) },
    );
  }
  const life = createGatewayLifecycle({
    dataDir: deps.dataDir,
    config,
    logger,
    listeners,
    endpoint,
    pool,
    tunnel,
    build: buildListener,
  });

  return {
    events,
    ownerToken,
    api,
    get address() {
      return life.address;
    },
    backendStatuses: () => pool.statuses(),
    reconfigure: runtime.reconfigure,
    async restartBackend(name: string) {
      const backend = pool.get(name);
      if (!backend) throw new GatewayError('invalid_argument', `No backend named "${name}"`);
      await backend.restart();
    },
    start: life.start,
    startBackends: life.startBackends,
    stop: life.stop,
    async [Symbol.asyncDispose]() {
      await this.stop();
    },
    get authorizationServer() {
      return oauth;
    },
    tunnel: life.tunnel,
    get paused() {
      return endpoint.paused;
    },
    setPaused,
    consoleLoginUrl() {
      if (!life.address) throw new GatewayError('not_running', 'Start the gateway before signing in to the console');
      return `${life.address.origin}/app/login?token=${consoleSessions.loginToken()}`;
    },
    async createPersonalToken(input) {
      if (!oauth || !life.address) throw new GatewayError('not_running', 'Start the gateway before creating tokens');
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
