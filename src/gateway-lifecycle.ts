import { childrenDir, stopOrphans } from './backends/child-registry.js';
import type { BackendPool } from './backends/pool.js';
import type { GatewayConfig } from './config/schema.js';
import type { GatewayAddress, GatewayTunnel } from './gateway.js';
import type { Listeners } from './http/listeners.js';
import type { McpEndpoint } from './mcp/endpoint.js';
import { describeError, GatewayError } from './shared/errors.js';
import type { Logger } from './shared/logger.js';
import type { TunnelController } from './tunnel/controller.js';

export interface GatewayLifecycleOptions {
  dataDir?: string | undefined;
  config: () => GatewayConfig;
  logger: Logger;
  /** Opens the OAuth state and builds the listeners; once, on the first start. */
  build: () => Promise<void>;
  listeners: Listeners;
  endpoint: McpEndpoint;
  pool: BackendPool;
  tunnel: TunnelController;
}

export interface GatewayLifecycle {
  readonly address: GatewayAddress | undefined;
  start(options?: { backends?: 'now' | 'later' }): Promise<GatewayAddress>;
  startBackends(): void;
  stop(): Promise<void>;
  readonly tunnel: GatewayTunnel;
}

/** The order in which a gateway's parts start and stop; each step says why it comes where it does. */
export function createGatewayLifecycle(options: GatewayLifecycleOptions): GatewayLifecycle {
  const { dataDir, logger, listeners, endpoint, pool, tunnel } = options;
  let address: GatewayAddress | undefined;
  let built = false;
  let backendsStarted = false;
  function startBackends(): void {
    if (backendsStarted) return;
    backendsStarted = true;
    pool.start();
  }
  return {
    get address() {
      return address;
    },
    async start(startOptions = {}) {
      if (address) return address;
      // Children a crashed run left behind are stopped before any backend spawns, or a server that
      // ignores stdin EOF would run twice. Meanwhile the listener comes up.
      const orphans = dataDir
        ? stopOrphans({ dir: childrenDir(dataDir), logger: logger.child({ component: 'children' }) }).catch(
            (error: unknown) =>
              logger.warn('could not check for leftover backend children', { error: describeError(error) }),
          )
        : undefined;
      if (!built) {
        await options.build();
        built = true;
      }
      address = await listeners.listen();
      // Listening first, backends after: the endpoint and builtins answer while backends connect.
      await orphans;
      if (startOptions.backends !== 'later') startBackends();
      const config = options.config();
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
    tunnel: {
      async start() {
        if (!address) throw new GatewayError('not_running', 'Start the gateway before the tunnel');
        return tunnel.start();
      },
      stop: () => tunnel.stop(),
      status: () => tunnel.status(),
    },
  };
}
