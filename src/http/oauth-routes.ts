import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import { CONSOLE_SESSION_HEADER } from '../shared/console-session.js';
import type { AuthorizationServer, AuthorizeOutcome, Origin } from '../oauth/server.js';
import { CONSENT_SCRIPT_PATH, PAGE_HEADERS, renderErrorPage } from '../oauth/consent-page.js';
import { CONSENT_SCRIPT } from '../oauth/consent-script.js';
import { OAuthError } from '../oauth/errors.js';
import { requesterOf } from '../oauth/requester.js';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/errors.js';
import { isStorageError } from '../store/fs-errors.js';
import { clientBodyFailure } from './body.js';

/** CORS for the endpoints browser-based clients (the MCP Inspector) call; never on authorize or consent. */
function cors(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, mcp-protocol-version');
  res.setHeader('Access-Control-Max-Age', '600');
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
}

function sendOutcome(res: Response, outcome: AuthorizeOutcome): void {
  if (outcome.kind === 'redirect') {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, outcome.location);
    return;
  }
  res.status(outcome.status).set(PAGE_HEADERS);
  res.send(outcome.kind === 'page' ? outcome.html : renderErrorPage(outcome.title, outcome.message));
}

/**
 * The consent page's script gets its decision as JSON: a redirect it could not read through fetch
 * (an opaque redirect), and an error it shows on the page.
 */
function sendDecision(res: Response, outcome: AuthorizeOutcome): void {
  res.setHeader('Cache-Control', 'no-store');
  if (outcome.kind === 'redirect') {
    res.json({ ok: true, value: { location: outcome.location } });
    return;
  }
  if (outcome.kind === 'error-page') {
    res.status(outcome.status).json({
      ok: false,
      error: { code: outcome.code ?? 'refused', message: `${outcome.title}: ${outcome.message}` },
    });
    return;
  }
  res.status(500).json({ ok: false, error: { code: 'internal', message: 'Unexpected answer' } });
}

/** What the requester is told when the grant could not be saved (the path stays in the log). */
function storageDescription(error: { code: string }): string {
  return error.code === 'disk_full'
    ? "The gateway's disk is full, so this could not be saved; try again once the owner has freed some space"
    : 'The gateway could not save this (its data folder refused the write); the owner must fix its permissions';
}

const SESSION_HEADER = CONSOLE_SESSION_HEADER.toLowerCase();

function flat(query: Request['query']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) out[key] = typeof value === 'string' ? value : undefined;
  return out;
}

function formOf(body: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) out[key] = typeof value === 'string' ? value : undefined;
  }
  return out;
}

/**
 * Mounts discovery, registration, authorization, consent, token, revocation and JWKS.
 * `ownerPresent` is the proof a consent decision on the page needs (ConsoleSessions#ownerPresent).
 */
export function mountOAuthRoutes(
  app: Express,
  express: typeof expressModule,
  server: AuthorizationServer,
  originOf: (req: Request) => Origin,
  logger: Logger,
  ownerPresent: (req: Request) => boolean,
): void {
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const json = express.json({ limit: '64kb' });

  const prm = (req: Request, res: Response) => void res.json(server.protectedResourceMetadata(originOf(req)));
  app.all(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'], cors, prm);
  const asm = (req: Request, res: Response) => void res.json(server.metadata(originOf(req)));
  app.all(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'], cors, asm);
  app.all('/jwks.json', cors, (_req, res) => void res.json(server.jwks()));

  app.all('/register', cors, json, async (req, res, next) => {
    try {
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json(await server.register(req.body, originOf(req)));
    } catch (error) {
      next(error);
    }
  });

  app.get('/authorize', async (req, res, next) => {
    try {
      const origin = originOf(req);
      const requester = requesterOf({
        listener: origin.listener ?? 'local',
        socketAddress: req.socket.remoteAddress,
        headers: req.headers,
      });
      sendOutcome(res, await server.authorize(flat(req.query), origin, requester));
    } catch (error) {
      next(error);
    }
  });

  app.get('/authorize/wait', async (req, res, next) => {
    try {
      sendOutcome(res, await server.wait(flat(req.query)));
    } catch (error) {
      next(error);
    }
  });

  // The consent page's own script: served from this origin, the only script its policy allows.
  app.get(CONSENT_SCRIPT_PATH, (_req, res) => {
    res
      .status(200)
      .set({
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      .send(CONSENT_SCRIPT);
  });

  // A decision on the consent page. The page's script sends it with the owner's console session
  // and gets JSON; anything else (a plain form POST) is refused with a page: only the owner decides.
  app.post('/consent', form, async (req, res, next) => {
    const fromScript = req.headers[SESSION_HEADER] !== undefined;
    try {
      const body = (req.body ?? {}) as Record<string, string | string[] | undefined>;
      const outcome = await server.decide(body, ownerPresent(req));
      if (fromScript) sendDecision(res, outcome);
      else sendOutcome(res, outcome);
    } catch (error) {
      if (fromScript && isStorageError(error)) {
        logger.error('oauth endpoint could not save', { path: '/consent', error: error.message });
        res
          .status(500)
          .set('Cache-Control', 'no-store')
          .json({ ok: false, error: { code: error.code, message: storageDescription(error) } });
        return;
      }
      next(error);
    }
  });

  app.all('/token', cors, form, async (req, res, next) => {
    try {
      if (req.method !== 'POST') throw new OAuthError('invalid_request', 'Use POST');
      const tokens = await server.token(formOf(req.body), req.headers.authorization);
      // RFC 6749 §5.1: token responses must not be cached.
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(tokens);
    } catch (error) {
      next(error);
    }
  });

  app.all('/revoke', cors, form, async (req, res, next) => {
    try {
      if (req.method !== 'POST') throw new OAuthError('invalid_request', 'Use POST');
      await server.revoke(formOf(req.body), req.headers.authorization);
      res.status(200).set('Cache-Control', 'no-store').end();
    } catch (error) {
      next(error);
    }
  });

  // OAuth errors become RFC bodies here; anything else is a server_error whose details stay in the log.
  app.use(
    ['/register', '/token', '/revoke', '/authorize', '/consent'],
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      if (error instanceof OAuthError) {
        if (error.code === 'invalid_client' && req.headers.authorization?.startsWith('Basic ')) {
          res.setHeader('WWW-Authenticate', 'Basic realm="cortex-gateway"');
        }
        res.status(error.status).set('Cache-Control', 'no-store').json(error.toBody());
        return;
      }
      if (isStorageError(error)) {
        // The grant could not be saved, so nothing was issued. The path stays in the log: these
        // endpoints also answer through the public tunnel.
        logger.error('oauth endpoint could not save', { path: req.originalUrl.split('?')[0], error: error.message });
        const description = storageDescription(error);
        if (req.baseUrl === '/authorize' || req.baseUrl === '/consent') {
          // Browser steps: a page. The request is kept, so the same step can be tried again.
          res.status(500).set(PAGE_HEADERS).send(renderErrorPage('Could not save', description));
          return;
        }
        // RFC 6749 §5.2 and RFC 7591 §3.2.2 answer with error and error_description. RFC 7009
        // §2.2.1: a revocation refused with 503 tells the client the token is still valid, to retry.
        res
          .status(req.baseUrl === '/revoke' ? 503 : 500)
          .set('Cache-Control', 'no-store')
          .json({ error: 'server_error', error_description: description });
        return;
      }
      // A body too large, malformed or oddly encoded is the client's fault: its 4xx (413 for too
      // large), in the RFC 6749 §5.2 shape; a browser step (the consent form) gets a page.
      const refused = clientBodyFailure(error);
      if (refused) {
        if (req.baseUrl === '/consent') {
          res.status(refused.status).set(PAGE_HEADERS).send(renderErrorPage('Request refused', refused.message));
          return;
        }
        res
          .status(refused.status)
          .set('Cache-Control', 'no-store')
          .json({ error: 'invalid_request', error_description: refused.message });
        return;
      }
      logger.error('oauth endpoint failed', { path: req.path, error: describeError(error) });
      res.status(500).json({ error: 'server_error', error_description: 'Internal error' });
    },
  );
}
