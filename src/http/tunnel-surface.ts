import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.js';
import { applyMcpCors } from './mcp-cors.js';

/** Browser origins of the hosted clients that reach the gateway through the tunnel. */
export const TUNNEL_CORS_ORIGINS: readonly string[] = Object.freeze(['https://claude.ai', 'https://claude.com']);

/** Exactly what a remote MCP client needs: the endpoint, discovery and the OAuth endpoints. */
const TUNNEL_PATHS = new Set([
  '/mcp',
  '/authorize',
  '/authorize/wait',
  '/consent',
  '/token',
  '/register',
  '/revoke',
  '/jwks.json',
]);

/** RFC 9728 / RFC 8414 documents, in the root and the path-suffixed forms clients try. */
const DISCOVERY =
  /^\/\.well-known\/(oauth-protected-resource|oauth-authorization-server|openid-configuration)(\/mcp)?$/;

/**
 * Whether a path may be served through the tunnel. An allow-list of exact paths, so that the
 * console, `/api/*` and anything added later stay local even under express's case-insensitive,
 * trailing-slash-tolerant routing.
 */
export function isTunnelPath(path: string): boolean {
  return TUNNEL_PATHS.has(path) || DISCOVERY.test(path);
}

/** Host of an origin URL ("https://a.trycloudflare.com" → "a.trycloudflare.com"), lowercased. */
function hostOf(origin: string): string {
  return new URL(origin).host.toLowerCase();
}

export interface TunnelSurfaceOptions {
  /** The public origin while the tunnel is up; without one every request is refused. */
  publicOrigin: () => string | undefined;
  /** Browser origins allowed to call /mcp cross-origin. */
  corsOrigins: readonly string[];
  logger: Logger;
}

function refuse(res: ServerResponse, status: number, error: string, message: string): void {
  const payload = JSON.stringify({ error, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * The tunnel listener's front door: only the public host, only the allowed paths, and CORS on
 * /mcp for the hosted clients (the OAuth routes send their own). Everything that passes goes to
 * `inner`, a request listener built for the public origin.
 */
export function createTunnelSurface(
  inner: (req: IncomingMessage, res: ServerResponse) => void,
  options: TunnelSurfaceOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.logger.child({ component: 'tunnel-http' });
  return (req, res) => {
    const url = req.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    const publicOrigin = options.publicOrigin();
    const host = (req.headers.host ?? '').toLowerCase();
    if (!publicOrigin || host !== hostOf(publicOrigin)) {
      log.warn('tunnel request refused', { reason: 'host', path });
      refuse(res, 403, 'forbidden', `Host not allowed: ${host || '(none)'}`);
      return;
    }
    if (!isTunnelPath(path)) {
      // The console and the owner API exist only on the local listener.
      refuse(res, 404, 'not_found', 'Not available through the tunnel');
      return;
    }
    if (path === '/mcp' && applyMcpCors(req, res, (origin) => options.corsOrigins.includes(origin))) return;
    inner(req, res);
  };
}
