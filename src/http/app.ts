import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { BackendStatus } from '../backends/types.js';
import type { GatewaySettings } from '../config/schema.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import { sendJsonRpcError } from '../mcp/json-rpc.js';
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
  version: string;
  /** Built console (renderer) to serve at /app, if present. */
  consoleDir?: string;
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const log = options.logger.child({ component: 'http' });

  // DNS rebinding protection for every route: a foreign Host or Origin never reaches a handler.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const host = checkHost(req.headers.host, options.settings.allowedHosts);
    const origin = host.ok ? checkOrigin(req.headers.origin, options.settings.allowedOrigins) : host;
    if (!origin.ok) {
      log.warn('request refused', { reason: origin.message, path: req.path });
      res.status(403).json({ error: 'forbidden', message: origin.message });
      return;
    }
    next();
  });

  app.all('/mcp', async (req: Request, res: Response) => {
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
