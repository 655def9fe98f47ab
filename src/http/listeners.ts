import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewaySettings } from '../config/schema.js';
import type { Origin } from '../oauth/server.js';
import type { Clock } from '../shared/clock.js';
import { GatewayError } from '../shared/errors.js';
import { createHttpServer } from '../shared/http-server.js';
import type { Logger } from '../shared/logger.js';
import { createRequestListener, type HttpAppOptions, type HttpAuth } from './app.js';
import { ConsoleSessions } from './console-auth.js';
import { createTunnelSurface, TUNNEL_CORS_ORIGINS } from './tunnel-surface.js';

/** Where the gateway's own listener is reachable, once it listens. */
export interface GatewayAddress {
  mcpUrl: string;
  consoleUrl: string;
  origin: string;
  port: number;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The default port's neighbours tried when it is busy (`portFallback`). */
const PORT_FALLBACK_TRIES = 10;

export interface ListenersOptions {
  /** The gateway settings, fixed for the process (host, port, allowed hosts, limits). */
  settings: GatewaySettings;
  /** When the configured port is busy, try the next ones (the default port) instead of failing (an explicit one). */
  portFallback: boolean;
  /** The tunnel's public https origin while it is up. */
  tunnelOrigin: () => string | undefined;
  logger: Logger;
  clock: Clock;
}

/** What both listeners share of OAuth; each adds its own origins and token audiences. */
export type ListenerAuth = Omit<HttpAuth, 'originOf' | 'audiences'>;

/** The local listener's options as the composition root builds them; `auth` is added here. */
export type LocalAppOptions = Omit<HttpAppOptions, 'auth'>;

export interface Listeners {
  /** Where the local listener is bound, while it is. */
  readonly address: GatewayAddress | undefined;
  /** Every origin a client may use to reach the local listener: the loopback spellings and allowed hosts. */
  origins(): Origin[];
  /** The issuer and resource for the origin a request on the local listener used. */
  originOf(req: IncomingMessage): Origin;
  /** The tunnel's origin while it is up. */
  tunnelOrigin(): Origin | undefined;
  /** What the authorization server issues for and accepts: the local origins and the tunnel's. */
  allOrigins(): Origin[];
  /** Builds both request listeners, once the authorization server exists; before `listen`. */
  build(app: LocalAppOptions, auth: ListenerAuth): void;
  /** Serves what arrives through the tunnel (the tunnel controller's handler). */
  readonly tunnelHandler: RequestListener;
  /** Binds the local listener (with the port fallback) and resolves with its address. */
  listen(): Promise<GatewayAddress>;
  /**
   * Closes the local listener: the address goes at once, then `drain` runs (the endpoint ends its
   * sessions while their connections are still open), then every connection is closed.
   */
  close(drain?: () => Promise<void>): Promise<void>;
}

/**
 * The gateway's two listeners: the local one (MCP, OAuth, console and owner API) and the tunnel's
 * (MCP and OAuth under the public origin only, behind src/http/tunnel-surface.ts). The tunnel
 * controller binds the tunnel's own socket; this binds the local one.
 */
export function createListeners(options: ListenersOptions): Listeners {
  const { settings, logger } = options;
  let local: RequestListener | undefined;
  let tunnel: RequestListener | undefined;
  let server: Server | undefined;
  let address: GatewayAddress | undefined;

  const origins = (): Origin[] => {
    if (!address) return [];
    const hosts = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${address!.port}`);
    hosts.push(...settings.allowedHosts);
    return hosts.map((host) => ({ issuer: `http://${host}`, resource: `http://${host}/mcp`, listener: 'local' }));
  };
  const originOf = (req: IncomingMessage): Origin => {
    const host = (req.headers.host ?? '').toLowerCase();
    const all = origins();
    return all.find((o) => o.issuer === `http://${host}`) ?? all[0]!;
  };
  const tunnelOrigin = (): Origin | undefined => {
    const url = options.tunnelOrigin();
    return url ? { issuer: url, resource: `${url}/mcp`, listener: 'tunnel' } : undefined;
  };

  function build(app: LocalAppOptions, auth: ListenerAuth): void {
    tunnel = createTunnelSurface(
      createRequestListener({
        // The same gateway as the local listener: its endpoint and, truthfully, its read-only state.
        endpoint: app.endpoint,
        version: app.version,
        settings: {
          get allowedHosts() {
            const url = options.tunnelOrigin();
            return url ? [new URL(url).host] : [];
          },
          get allowedOrigins() {
            const url = options.tunnelOrigin();
            return url ? [url, ...TUNNEL_CORS_ORIGINS] : [...TUNNEL_CORS_ORIGINS];
          },
          maxBodyBytes: settings.maxBodyBytes,
        },
        // Pages arrive here only under the public origin, which is in the allowed list above.
        ownOrigins: () => [],
        logger: logger.child({ listener: 'tunnel' }),
        // No owner here. The surface refuses /api and /app; should a route ever slip through, the
        // owner has no credential on this listener: a bearer that is held nowhere and cannot be
        // presented, and console sessions no one can open (the sign-in routes are local only).
        ownerToken: randomBytes(32).toString('base64url'),
        consoleSessions: new ConsoleSessions({ clock: options.clock }),
        auth: {
          ...auth,
          originOf: () =>
            tunnelOrigin() ?? { issuer: 'https://invalid', resource: 'https://invalid/mcp', listener: 'tunnel' },
          audiences: () => {
            const origin = tunnelOrigin();
            return origin ? [origin.resource] : [];
          },
        },
      }),
      { publicOrigin: options.tunnelOrigin, corsOrigins: TUNNEL_CORS_ORIGINS, logger },
    );
    local = createRequestListener({
      ...app,
      auth: {
        ...auth,
        originOf,
        // Tokens minted for the tunnel's public URL are not valid here, and the reverse (see above).
        audiences: () => origins().map((o) => o.resource),
      },
    });
  }

  const bind = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const candidate = createHttpServer((req, res) => local!(req, res), settings, logger.child({ component: 'http' }));
      candidate.once('error', reject);
      candidate.listen(port, settings.host, () => {
        candidate.off('error', reject);
        resolve(candidate);
      });
    });

  async function listen(): Promise<GatewayAddress> {
    if (!local) throw new Error('listeners: build() before listen()');
    const first = settings.port;
    const tries = options.portFallback && first !== 0 ? PORT_FALLBACK_TRIES : 1;
    for (let i = 0; i < tries; i++) {
      try {
        server = await bind(first + i);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        if (i === tries - 1) {
          throw new GatewayError(
            'port_in_use',
            tries > 1
              ? `Ports ${first}-${first + i} on ${settings.host} are all in use; pass --port 0 to pick any free port`
              : `Port ${first} on ${settings.host} is in use; choose another with --port, or --port 0 for any free port`,
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
    return address;
  }

  async function close(drain?: () => Promise<void>): Promise<void> {
    const closing = server;
    server = undefined;
    address = undefined;
    await drain?.();
    if (!closing) return;
    await new Promise<void>((resolve) => {
      closing.close(() => resolve());
      closing.closeAllConnections();
    });
  }

  return {
    get address() {
      return address;
    },
    origins,
    originOf,
    tunnelOrigin,
    allOrigins: () => {
      const publicOrigin = tunnelOrigin();
      return publicOrigin ? [...origins(), publicOrigin] : origins();
    },
    build,
    tunnelHandler: (req, res) => tunnel!(req, res),
    listen,
    close,
  };
}
