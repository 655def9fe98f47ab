import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { BackendStatus } from '../backends/types.js';
import type { GatewaySettings } from '../config/schema.js';
import type { NamingNote } from '../federation/catalog.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import { sendJsonRpcError } from '../shared/json-rpc.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { readJsonBody } from './body.js';
import { checkHost, checkOrigin } from './guards.js';

export interface HttpAppOptions {
  endpoint: McpEndpoint;
  settings: Pick<GatewaySettings, 'allowedHosts' | 'allowedOrigins' | 'maxBodyBytes'>;
  logger: Logger;
  /** Bearer accepted on /api/* until the console login lands; kept in the 0600 runtime file. */
  ownerToken: string;
  statuses: () => BackendStatus[];
  /** Renames and collisions in the federated catalog. */
  namingNotes: () => readonly NamingNote[];
  /** Recent stderr lines of a backend, or undefined if there is no such backend. */
  stderr: (backend: string) => string[] | undefined;
  version: string;
  /** Built console (renderer) to serve at /app, if present. */
  consoleDir?: string;
}

/**
 * The request listener: `/mcp` is served straight from node:http (it is the hot path, and express's
 * routing cost shows in the benchmark), everything else through express. Both run the same
 * Host/Origin guard first.
 */
export function createRequestListener(options: HttpAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.logger.child({ component: 'http' });
  const guard = (req: IncomingMessage, res: ServerResponse): boolean => {
    const host = checkHost(req.headers.host, options.settings.allowedHosts);
    const verdict = host.ok ? checkOrigin(req.headers.origin, options.settings.allowedOrigins) : host;
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
    handleMcp(req, res, options).catch((error: unknown) => {
      log.error('unhandled /mcp error', { error: describeError(error) });
      sendJsonRpcError(res, 500, -32603, 'Internal error');
    });
  };
}

async function handleMcp(req: IncomingMessage, res: ServerResponse, options: HttpAppOptions): Promise<void> {
  if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
    res.setHeader('Allow', 'GET, POST, DELETE');
    sendJsonRpcError(res, 405, -32000, 'Method not allowed');
    return;
  }
  let body: unknown;
  if (req.method === 'POST') {
    const read = await readJsonBody(req, options.settings.maxBodyBytes);
    if (!read.ok) {
      // JSON-RPC 2.0 §5.1: -32700 for unparseable JSON; an oversized body is an invalid request.
      sendJsonRpcError(res, read.status, read.status === 400 && read.parseError ? -32700 : -32600, read.message);
      return;
    }
    body = read.value;
  }
  await options.endpoint.handle(req, res, body);
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

  const ownerOnly = (req: Request, res: Response, next: NextFunction) => {
    if (!bearerMatches(req.headers.authorization, options.ownerToken)) {
      res.status(401).json({ error: 'unauthorized', message: 'Owner token required' });
      return;
    }
    next();
  };

  app.get('/api/backends', ownerOnly, (_req, res) => {
    res.json({ ok: true, value: options.statuses() });
  });

  app.get('/api/backends/:name/stderr', ownerOnly, (req, res) => {
    const lines = options.stderr(String(req.params.name));
    if (!lines) {
      res
        .status(404)
        .json({ ok: false, error: { code: 'not_found', message: `No backend named "${req.params.name}"` } });
      return;
    }
    res.json({ ok: true, value: lines });
  });

  app.get('/api/catalog/notes', ownerOnly, (_req, res) => {
    res.json({ ok: true, value: options.namingNotes() });
  });

  if (options.consoleDir && existsSync(options.consoleDir)) {
    app.use('/app', express.static(options.consoleDir, { index: 'index.html', maxAge: 0 }));
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  // One place where unexpected failures become a response: details are logged, never sent.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error('unhandled request error', { path: req.path, error: describeError(error) });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(500).json({ error: 'server_error' });
  });

  return app;
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
