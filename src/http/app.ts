import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { ConsoleApi } from '../api/service.js';
import type { GatewaySettings } from '../config/schema.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import { sendJsonRpcError } from '../shared/json-rpc.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { mountApiRoutes } from './api-routes.js';
import type { ConsoleSessions } from './console-auth.js';
import { errorHandler } from './errors.js';
import { handleMcp, type HttpAuth } from './mcp-route.js';
import { mountOAuthRoutes } from './oauth-routes.js';
import { checkHost, checkOrigin, originListed, ownLoopbackOrigins } from './guards.js';
import { applyMcpCors } from './mcp-cors.js';

export type { HttpAuth } from './mcp-route.js';

/**
 * What one listener serves: `/mcp` for clients, the OAuth endpoints, and (on the local listener
 * only) the console and the owner API, whose operations are all in `api` (src/api/service.ts).
 */
export interface HttpAppOptions {
  endpoint: McpEndpoint;
  settings: Pick<GatewaySettings, 'allowedHosts' | 'allowedOrigins' | 'maxBodyBytes'>;
  /**
   * The origins of the pages this listener serves, which browsers may send besides
   * `settings.allowedOrigins`. Default: the loopback spellings with the port the request came in
   * on. The tunnel listener passes none: its public origin is in its allowed list.
   */
  ownOrigins?: (req: IncomingMessage) => readonly string[];
  /** Answer CORS on /mcp for `settings.allowedOrigins` (the tunnel's surface answers its own). */
  mcpCors?: boolean;
  logger: Logger;
  /** The CLI's bearer for /api/*, kept in the 0600 runtime file. */
  ownerToken: string;
  version: string;
  /** Built console (renderer) to serve at /app, if present. */
  consoleDir?: string;
  /** Owner sign-in for the console (login links and sessions bound to the console's origin). */
  consoleSessions: ConsoleSessions;
  /** How the owner runs the CLI here, as the sign-in pages print it (`cortex-gateway` by default). */
  cliCommand?: string;
  /** The owner's operations behind `/api/*`; absent on a listener with no owner surface (the tunnel's). */
  api?: ConsoleApi;
  /** OAuth: the authorization server and how the resource side maps tokens to identities. */
  auth?: HttpAuth;
}

/**
 * The request listener: `/mcp` is served straight from node:http (it is the hot path, and express's
 * routing cost shows in the benchmark), everything else through express. Both run the same
 * Host/Origin guard first.
 */
export function createRequestListener(options: HttpAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.logger.child({ component: 'http' });
  const ownOrigins = options.ownOrigins ?? ((req: IncomingMessage) => ownLoopbackOrigins(req.socket.localPort ?? 0));
  // Every route, not only /mcp and /register: none is meant to be driven by a page on another
  // port, and the CORS-open discovery documents are of no use to one that cannot go on to /mcp.
  const guard = (req: IncomingMessage, res: ServerResponse): boolean => {
    const host = checkHost(req.headers.host, options.settings.allowedHosts);
    const verdict = host.ok
      ? checkOrigin(req.headers.origin, { own: ownOrigins(req), extra: options.settings.allowedOrigins })
      : host;
    if (verdict.ok) return true;
    log.warn('request refused', { reason: verdict.message, path: (req.url ?? '').split('?')[0] });
    const payload = JSON.stringify({ error: 'forbidden', message: verdict.message });
    res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return false;
  };
  // express (and its body parsers and mime tables) loads on the first request that needs it, not at
  // start-up: it is a tenth of the start-up time and /mcp never uses it.
  let app: Promise<Express> | undefined;
  return (req, res) => {
    const url = req.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (path !== '/mcp') {
      app ??= import('express').then(({ default: express }) => createExpressApp(express, options, guard));
      app.then(
        (handler) => handler(req, res),
        (error: unknown) => {
          log.error('could not load the HTTP router', { error: describeError(error) });
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (!guard(req, res)) return;
    if (options.mcpCors && applyMcpCors(req, res, (origin) => originListed(origin, options.settings.allowedOrigins))) {
      return;
    }
    handleMcp(req, res, options).catch((error: unknown) => {
      log.error('unhandled /mcp error', { error: describeError(error) });
      sendJsonRpcError(res, 500, -32603, 'Internal error');
    });
  };
}

function createExpressApp(
  express: typeof expressModule,
  options: HttpAppOptions,
  guard: (req: IncomingMessage, res: ServerResponse) => boolean,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const log = options.logger.child({ component: 'http' });

  // DNS rebinding protection for every route: a foreign Host or Origin never reaches a handler.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (guard(req, res)) next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: options.version });
  });

  if (options.api) {
    const auth = options.auth;
    mountApiRoutes(app, express, {
      api: options.api,
      ownerToken: options.ownerToken,
      consoleSessions: options.consoleSessions,
      cliCommand: options.cliCommand ?? 'cortex-gateway',
      ...(auth ? { originOf: (req: Request) => auth.originOf(req) } : {}),
      logger: log,
    });
  }

  if (options.auth) {
    const auth = options.auth;
    mountOAuthRoutes(
      app,
      express,
      auth.server,
      (req) => auth.originOf(req),
      log,
      (req) => options.consoleSessions.ownerPresent(req),
    );
  }

  if (options.consoleDir && existsSync(options.consoleDir)) {
    // Only its own scripts, styles and API, and never framed by another page (clickjacking). The
    // same policy as the page's meta tag, sent as a header so it holds before the page is parsed
    // and covers what a meta tag cannot (frame-ancestors).
    // No Referer either: the sign-in page's URL holds the one-time token until the page removes it.
    app.use('/app', (_req, res, next) => {
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      next();
    });
    // The console's files hold no data (the API does), so they are served to anyone who may reach
    // this listener; without a stored session the page shows how to sign in. The one-time link
    // printed by `serve` is the console page itself: it spends the token through POST /api/session
    // (a GET never spends it, so a link preview cannot burn it).
    const index = join(options.consoleDir, 'index.html');
    app.get('/app/login', (_req, res) => res.sendFile(index));
    app.use('/app', express.static(options.consoleDir, { index: 'index.html', maxAge: 0 }));
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler(log));
  return app;
}

const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
