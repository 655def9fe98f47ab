import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { BackendStatus } from '../backends/types.js';
import type { GatewaySettings } from '../config/schema.js';
import type { NamingNote } from '../federation/catalog.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import { sendJsonRpcError, singleRequestId } from '../shared/json-rpc.js';
import { describeError, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ActivityFilter } from '../mcp/activity.js';
import type {
  ActivityEntry,
  GatewayStatusView,
  BackendTestResult,
  ConsentDecisionInput,
  ConsoleSessionView,
  ConsoleSignIn,
  CreatePersonalTokenInput,
  ScopeView,
  ToolOverrideInput,
  ToolView,
  TunnelStatus,
} from '../api/contract.js';
import type { Identity } from '../mcp/builtins.js';
import type { AuthorizationServer, Origin } from '../oauth/authorization-server.js';
import { OAuthError } from '../oauth/errors.js';
import type { VerifiedToken } from '../oauth/tokens.js';
import { clientBodyFailure, readJsonBody } from './body.js';
import { isOwnOrigin, LEGACY_CONSOLE_COOKIE, type ConsoleSessions } from './console-auth.js';
import { answer, expectedStatus, failureBody } from './api-answer.js';
import { mountOAuthRoutes } from './oauth-routes.js';
import { mountSettingsRoutes, type OwnerSettings } from './settings-routes.js';
import { mountConnectionRoutes, type ClientConnections } from './connection-routes.js';
import { mountImportRoutes, type Importer } from './import-routes.js';
import { mountGrantRoutes, type SetClientScopes } from './grant-routes.js';
import { checkHost, checkOrigin, originListed, ownLoopbackOrigins } from './guards.js';
import { applyMcpCors } from './mcp-cors.js';

export interface HttpAppOptions {
  endpoint: McpEndpoint;
  settings: Pick<GatewaySettings, 'allowedHosts' | 'allowedOrigins' | 'maxBodyBytes'>;
  /**
   * The origins of the pages this listener serves, which browsers may send besides
   * `settings.allowedOrigins`. Default: the loopback spellings with the port the request came in
   * on. The tunnel listener has none of its own: its public origin is in its allowed list.
   */
  ownOrigins?: (req: IncomingMessage) => readonly string[];
  /** Answer CORS on /mcp for `settings.allowedOrigins` (the tunnel's surface answers its own). */
  mcpCors?: boolean;
  logger: Logger;
  /** The CLI's bearer for /api/*, kept in the 0600 runtime file. */
  ownerToken: string;
  statuses: () => BackendStatus[];
  /** Renames and collisions in the federated catalog. */
  namingNotes: () => readonly NamingNote[];
  /** Recent stderr lines of a backend, or undefined if there is no such backend. */
  stderr: (backend: string) => string[] | undefined;
  version: string;
  /** Built console (renderer) to serve at /app, if present. */
  consoleDir?: string;
  /** Owner sign-in for the console (login links and sessions bound to the console's origin). */
  consoleSessions: ConsoleSessions;
  /** How the owner runs the CLI here, as the sign-in pages print it (`cortex-gateway` by default). */
  cliCommand?: string;
  /** Edits `mcpServers` in the config file and applies it live; absent without a config file. */
  editServers?: (change: (servers: Record<string, unknown>) => void) => Promise<BackendStatus[]>;
  /** Recent tool calls, newest first. */
  activity?: (filter: ActivityFilter) => ActivityEntry[];
  /** Every tool of every enabled backend, disabled ones included. */
  tools?: () => ToolView[];
  /** Changes one tool's override in the config file and applies it without restarting the backend. */
  setToolOverride?: (backend: string, tool: string, change: ToolOverrideInput) => Promise<ToolView[]>;
  /** Connects a backend entry once without saving it (the console's "Test connection"). */
  testBackend?: (name: string, entry: unknown) => Promise<BackendTestResult>;
  /** A backend's config entry as the owner edits it, secrets masked; undefined if there is none. */
  backendConfig?: (name: string) => Promise<unknown>;
  /** Manual restart of one backend. */
  restartBackend?: (name: string) => Promise<void>;
  /** OAuth: the authorization server and how the resource side maps tokens to identities. */
  auth?: HttpAuth;
  /** The settings page: what is running, where its files are; the port saved to the config file. */
  ownerSettings?: OwnerSettings;
  /** The scopes clients and tokens may be granted, with tool counts. */
  scopes?: () => ScopeView[];
  /** MCP client apps on this machine (Claude Desktop…) the owner connects to the gateway. */
  connections?: ClientConnections;
  /** Servers of a client app brought in as backends; absent without a config file. */
  importer?: Importer;
  /** The owner changes what an application is granted (`PUT /api/clients/:id/scopes`). */
  setClientScopes?: SetClientScopes;
  /** Pause and resume serving clients. */
  gateway?: { status(): GatewayStatusView; setPaused(paused: boolean): GatewayStatusView };
  /** The public tunnel, started and stopped by the owner. */
  tunnel?: { status(): TunnelStatus; start(): Promise<TunnelStatus>; stop(): Promise<TunnelStatus> };
}

export interface HttpAuth {
  server: AuthorizationServer;
  /** The issuer and resource for the origin this request used (loopback spellings differ). */
  originOf: (req: IncomingMessage) => Origin;
  identify: (token: VerifiedToken) => Identity;
  /** For a request outside the grant, the scope that would allow it (the method table decides). */
  scopeNeeded: (identity: Identity, body: unknown) => string | undefined;
  supportedScopes: () => readonly string[];
  /**
   * The resources a token presented on this listener may be bound to. The authorization server
   * knows the local and the tunnel origins; each listener accepts only its own (RFC 8707 audience).
   */
  audiences?: () => readonly string[];
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

async function handleMcp(req: IncomingMessage, res: ServerResponse, options: HttpAppOptions): Promise<void> {
  if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
    res.setHeader('Allow', 'GET, POST, DELETE');
    sendJsonRpcError(res, 405, -32000, 'Method not allowed');
    return;
  }
  let identity: Identity | undefined;
  if (options.auth) {
    identity = await authenticate(req, res, options.auth);
    if (!identity) return;
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
    const needed = identity && options.auth?.scopeNeeded(identity, body);
    if (needed) {
      // RFC 6750 §3.1: the call is understood but the grant is too narrow; say which scope would do.
      const origin = options.auth!.originOf(req);
      res.setHeader(
        'WWW-Authenticate',
        `Bearer error="insufficient_scope", scope="${needed}", resource_metadata="${origin.issuer}/.well-known/oauth-protected-resource/mcp"`,
      );
      sendJsonRpcError(
        res,
        403,
        -32003,
        `insufficient_scope: this call needs the scope ${needed}`,
        singleRequestId(body),
      );
      return;
    }
  }
  await options.endpoint.handle(req, res, body, identity);
}

/**
 * Bearer authentication for /mcp, on every request including the first initialize (MCP
 * authorization spec; RFC 6750 §3). The 401 points at the protected resource metadata.
 */
async function authenticate(req: IncomingMessage, res: ServerResponse, auth: HttpAuth): Promise<Identity | undefined> {
  const origin = auth.originOf(req);
  const metadata = `${origin.issuer}/.well-known/oauth-protected-resource/mcp`;
  const header = req.headers.authorization;
  const challenge = (error?: OAuthError) => {
    const scopes = auth.supportedScopes().join(' ');
    // RFC 6750 §3: scope lists what the resource accepts; with no backend configured there is none to name.
    const parts = [`resource_metadata="${metadata}"`, ...(scopes ? [`scope="${scopes}"`] : [])];
    if (error) parts.unshift(`error="${error.code}"`, `error_description="${error.description.replace(/"/g, "'")}"`);
    res.setHeader('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
    const payload = JSON.stringify(
      error ? error.toBody() : { error: 'invalid_token', error_description: 'Authorization required' },
    );
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return undefined;
  };
  if (!header || !/^Bearer\s+/i.test(header)) return challenge();
  try {
    const token = await auth.server.verify(header.replace(/^Bearer\s+/i, '').trim());
    if (auth.audiences && !auth.audiences().some((aud) => sameResource(aud, token.audience))) {
      return challenge(new OAuthError('invalid_token', 'Token is for another resource'));
    }
    return auth.identify(token);
  } catch (error) {
    return challenge(error instanceof OAuthError ? error : new OAuthError('invalid_token', 'Invalid token'));
  }
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

  // The owner API is for the console's own page and the CLI: no other origin may call it, so no
  // CORS preflight is ever approved (Fetch §4.8). That is what keeps another page from sending the
  // console's session header, so it is answered here, explicitly, rather than left to a default.
  app.options(['/api', '/api/*path'], (_req, res) => {
    res.status(403).json({ ok: false, error: { code: 'forbidden', message: 'The owner API allows no other origin' } });
  });

  // The owner: the CLI with the runtime file's token, or the console with its session header (no
  // cookie proves anything: a cookie for 127.0.0.1 reaches every port). See ConsoleSessions#check.
  const ownerOnly = (req: Request, res: Response, next: NextFunction) => {
    if (bearerMatches(req.headers.authorization, options.ownerToken)) return next();
    const verdict = options.consoleSessions.check(req);
    if (verdict.ok) return next();
    res.status(verdict.status).json({ ok: false, error: { code: verdict.code, message: verdict.message } });
  };
  // Routes that run a command (or save one that will run) ask again when they act, after the body
  // has arrived and in the edit's turn: a session signed out in between no longer counts.
  const ownerStillPresent = (req: Request) => {
    if (bearerMatches(req.headers.authorization, options.ownerToken)) return;
    if (options.consoleSessions.ownerPresent(req)) return;
    throw new GatewayError('unauthorized', 'Owner sign-in required: the console session ended before the change ran');
  };
  const cli = options.cliCommand ?? 'cortex-gateway';

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

  // Secret values come back as { secret: true }: the console can show and resend them, never read them.
  if (options.backendConfig) {
    const backendConfig = options.backendConfig;
    app.get('/api/backends/:name/config', ownerOnly, async (req, res) => {
      const entry = await backendConfig(String(req.params.name));
      if (entry === undefined) {
        return void res
          .status(404)
          .json({ ok: false, error: { code: 'not_found', message: `No backend named "${req.params.name}"` } });
      }
      res.json({ ok: true, value: entry });
    });
  }

  if (options.testBackend) {
    const test = options.testBackend;
    app.post('/api/backends/:name/test', ownerOnly, express.json({ limit: '64kb' }), async (req, res) => {
      await answer(res, () =>
        invalidAsArgument(async () => {
          ownerStillPresent(req);
          return test(String(req.params.name), req.body);
        }),
      );
    });
  }

  // Backends: add or replace (PUT), remove (DELETE), restart. Bad input is answered with the JSON
  // path at fault and leaves the config file as it was.
  const edit = options.editServers;
  if (edit) {
    // Edits take turns (src/config/editor.ts): each is applied, or refused with its reason (a
    // conflict with an edit that ran first is 409), never lost.
    const apply = async (res: Response, change: (servers: Record<string, unknown>) => void) => {
      try {
        await answer(res, () => invalidAsArgument(() => edit(change)));
      } catch (error) {
        if (!(error instanceof GatewayError && error.code === 'secrets_unreadable')) throw error;
        res.status(500).json({ ok: false, error: { code: error.code, message: error.message } });
      }
    };
    app.put('/api/backends/:name', ownerOnly, express.json({ limit: '64kb' }), async (req, res) => {
      const name = String(req.params.name);
      await apply(res, (servers) => {
        // Its command runs once saved: the owner must still be there when the edit's turn comes.
        ownerStillPresent(req);
        servers[name] = req.body;
      });
    });
    app.delete('/api/backends/:name', ownerOnly, async (req, res) => {
      const name = String(req.params.name);
      if (!options.statuses().some((s) => s.name === name)) {
        return void res
          .status(404)
          .json({ ok: false, error: { code: 'not_found', message: `No backend named "${name}"` } });
      }
      await apply(res, (servers) => {
        // Checked again in the edit's turn: an edit that ran first may have removed it.
        if (!Object.hasOwn(servers, name)) {
          throw new GatewayError(
            'conflict',
            `Backend "${name}" is no longer in the config file: another edit removed it`,
            { field: `mcpServers.${name}` },
          );
        }
        delete servers[name];
      });
    });
  }
  if (options.restartBackend) {
    const restart = options.restartBackend;
    app.post('/api/backends/:name/restart', ownerOnly, async (req, res) => {
      const name = String(req.params.name);
      if (!options.statuses().some((s) => s.name === name)) {
        return void res
          .status(404)
          .json({ ok: false, error: { code: 'not_found', message: `No backend named "${name}"` } });
      }
      await restart(name);
      res.json({ ok: true, value: null });
    });
  }

  if (options.activity) {
    const activity = options.activity;
    app.get('/api/activity', ownerOnly, (req, res) => {
      const q = req.query as Record<string, unknown>;
      const filter: ActivityFilter = {};
      const after = Number(q.after);
      if (typeof q.after === 'string' && Number.isInteger(after)) filter.after = after;
      if (typeof q.client === 'string' && q.client) filter.clientId = q.client;
      if (typeof q.tool === 'string' && q.tool) filter.tool = q.tool;
      if (q.outcome === 'ok' || q.outcome === 'error' || q.outcome === 'refused') filter.outcome = q.outcome;
      const limit = Number(q.limit);
      if (Number.isInteger(limit) && limit > 0) filter.limit = Math.min(limit, 1000);
      res.json({ ok: true, value: activity(filter) });
    });
  }
  if (options.tools) {
    const tools = options.tools;
    app.get('/api/tools', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: tools() });
    });
  }
  if (options.setToolOverride) {
    const set = options.setToolOverride;
    app.put('/api/tools/:backend/:tool', ownerOnly, express.json({ limit: '16kb' }), async (req, res) => {
      const parsed = parseToolOverride(req.body);
      if (typeof parsed === 'string') {
        return void res.status(400).json({ ok: false, error: { code: 'invalid_argument', message: parsed } });
      }
      await answer(res, () => set(String(req.params.backend), String(req.params.tool), parsed));
    });
  }

  // Whether the console's stored session is live, and what its sign-in page prints; no sign-in
  // needed (the answer says nothing without a live secret, and no other origin can read it).
  app.get('/api/session', (req, res) => {
    const view: ConsoleSessionView = { signedIn: options.consoleSessions.check(req).ok, cliCommand: cli };
    res.json({ ok: true, value: view });
  });

  // Signing in: the console page spends the one-time link's token for a session secret. The token
  // comes in the body and the secret goes back in the body, so neither is left in a server log or
  // the secret in a URL; from the console's own origin only (a fetch POST always sends Origin).
  app.post('/api/session', express.json({ limit: '4kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    forgetLegacyCookie(res);
    if (!isOwnOrigin(req)) {
      return void res.status(403).json({
        ok: false,
        error: { code: 'forbidden', message: 'Sign in from the console page of this gateway (its exact origin)' },
      });
    }
    const token = (req.body as { token?: unknown } | undefined)?.token;
    const session = typeof token === 'string' && token ? await options.consoleSessions.redeem(token) : undefined;
    if (!session) {
      return void res.status(401).json({
        ok: false,
        error: {
          code: 'unauthorized',
          message: `This sign-in link was already used or has expired. Run "${cli} login" for a new one.`,
          field: 'token',
        },
      });
    }
    // A browser signing in again (the desktop window opens a fresh link each time) replaces the
    // session it held: that one ends rather than lingering for its 7 days.
    await options.consoleSessions
      .end(req)
      .catch((error: unknown) =>
        log.warn('the replaced console session could not be removed', { error: describeError(error) }),
      );
    const value: ConsoleSignIn = session;
    res.json({ ok: true, value });
  });

  // Signing out of the console: the session ends on the server, not just in this browser.
  app.post('/api/session/logout', ownerOnly, async (req, res) => {
    forgetLegacyCookie(res);
    await answer(res, async () => {
      await options.consoleSessions.end(req);
      return null;
    });
  });

  app.post('/api/login-links', ownerOnly, (req, res) => {
    const token = options.consoleSessions.loginToken();
    res.json({ ok: true, value: { url: `${req.protocol}://${req.headers.host}/app/login?token=${token}` } });
  });

  app.get('/api/catalog/notes', ownerOnly, (_req, res) => {
    res.json({ ok: true, value: options.namingNotes() });
  });

  mountSettingsRoutes(app, express, ownerOnly, {
    ...(options.ownerSettings ? { settings: options.ownerSettings } : {}),
    ...(options.scopes ? { scopes: options.scopes } : {}),
  });

  if (options.connections) mountConnectionRoutes(app, express, ownerOnly, options.connections);
  if (options.importer) mountImportRoutes(app, express, ownerOnly, options.importer);

  if (options.gateway) {
    const gateway = options.gateway;
    app.get('/api/gateway', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: gateway.status() });
    });
    app.put('/api/gateway', ownerOnly, express.json({ limit: '4kb' }), (req, res) => {
      const paused = (req.body as { paused?: unknown } | undefined)?.paused;
      if (typeof paused !== 'boolean') {
        return void res
          .status(400)
          .json({ ok: false, error: { code: 'invalid_argument', message: 'paused: must be true or false' } });
      }
      res.json({ ok: true, value: gateway.setPaused(paused) });
    });
  }
  if (options.tunnel) {
    const tunnel = options.tunnel;
    // Starting waits until the tunnel is up or has failed; the status says which and why.
    const answer = (res: Response, status: TunnelStatus) => {
      if (status.state === 'failed') {
        res.status(502).json({ ok: false, error: { code: 'tunnel_failed', message: status.lastError ?? 'failed' } });
        return;
      }
      res.json({ ok: true, value: status });
    };
    app.get('/api/tunnel', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: tunnel.status() });
    });
    app.post('/api/tunnel', ownerOnly, async (_req, res) => answer(res, await tunnel.start()));
    app.delete('/api/tunnel', ownerOnly, async (_req, res) => answer(res, await tunnel.stop()));
  }

  if (options.auth) {
    const auth = options.auth;
    const notFound = (res: Response, what: string) =>
      res.status(404).json({ ok: false, error: { code: 'not_found', message: `No ${what}` } });
    app.get('/api/clients', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: auth.server.clients() });
    });
    app.delete('/api/clients/:id', ownerOnly, async (req, res) => {
      if (!(await auth.server.revokeClient(String(req.params.id)))) return void notFound(res, 'such client');
      res.json({ ok: true, value: null });
    });
    if (options.setClientScopes) mountGrantRoutes(app, express, ownerOnly, options.setClientScopes);
    app.post('/api/keys/rotate', ownerOnly, async (_req, res) => {
      res.json({ ok: true, value: { kid: await auth.server.rotateKeys() } });
    });
    app.get('/api/consents', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: auth.server.pendingConsents() });
    });
    app.post('/api/consents/:id', ownerOnly, express.json({ limit: '16kb' }), (req, res) => {
      const input = (req.body ?? {}) as Partial<ConsentDecisionInput>;
      if (input.decision !== 'approve' && input.decision !== 'deny') {
        return void res
          .status(400)
          .json({ ok: false, error: { code: 'invalid_argument', message: 'decision: must be "approve" or "deny"' } });
      }
      if (input.scopes !== undefined && !Array.isArray(input.scopes)) {
        return void res.status(400).json({
          ok: false,
          error: { code: 'invalid_argument', message: 'scopes: must be a list of scopes', field: 'scopes' },
        });
      }
      // Without scopes, the request's suggested ones: read access at most.
      const scopes = input.scopes?.filter((s): s is string => typeof s === 'string');
      if (!auth.server.decideAsOwner(String(req.params.id), input.decision === 'approve', scopes)) {
        return void notFound(res, 'pending request with that id');
      }
      res.json({ ok: true, value: null });
    });
    app.get('/api/tokens', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: auth.server.personalTokens() });
    });
    app.post('/api/tokens', ownerOnly, express.json({ limit: '16kb' }), async (req, res) => {
      const input = (req.body ?? {}) as Partial<CreatePersonalTokenInput>;
      const scopes = Array.isArray(input.scopes) ? input.scopes.filter((s): s is string => typeof s === 'string') : [];
      const ttl = typeof input.ttlSeconds === 'number' && input.ttlSeconds > 0 ? input.ttlSeconds : 0;
      const name = typeof input.name === 'string' && input.name.trim() ? input.name.trim().slice(0, 100) : 'token';
      const fieldError = (field: string, message: string) =>
        res.status(400).json({ ok: false, error: { code: 'invalid_argument', message: `${field}: ${message}` } });
      if (scopes.length === 0) return void fieldError('scopes', 'at least one scope is required');
      if (!ttl || ttl > 366 * 24 * 3600) return void fieldError('ttlSeconds', 'must be between 1 s and one year');
      try {
        const created = await auth.server.createPersonalToken({
          name,
          scopes,
          ttlSeconds: ttl,
          origin: auth.originOf(req),
        });
        res.status(201).json({ ok: true, value: created });
      } catch (error) {
        if (error instanceof OAuthError) return void fieldError('scopes', error.description);
        throw error;
      }
    });
    app.delete('/api/tokens/:id', ownerOnly, async (req, res) => {
      if (!(await auth.server.revokePersonalToken(String(req.params.id)))) return void notFound(res, 'such token');
      res.json({ ok: true, value: null });
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

  // One place where failures no route answered become a response. Expected ones (a full disk, a
  // refused write, a conflict) are answered with their code and message, which name the file at
  // fault; anything unexpected is logged and answered server_error, its details never sent.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // A body the parser refused (too large: 413, malformed: 400) is the client's fault, not ours.
    const refused = clientBodyFailure(error);
    if (refused && !res.headersSent) {
      const code = refused.status === 413 ? 'too_large' : 'invalid_argument';
      if (req.path.startsWith('/api/')) {
        res.status(refused.status).json({ ok: false, error: { code, message: refused.message, field: 'body' } });
      } else {
        res.status(refused.status).json({ error: 'invalid_request', error_description: refused.message });
      }
      return;
    }
    const status = expectedStatus(error);
    if (status && req.path.startsWith('/api/')) {
      if (status >= 500) log.error('request failed', { path: req.path, error: describeError(error) });
      if (res.headersSent) return void res.end();
      res.status(status).json(failureBody(error as GatewayError));
      return;
    }
    log.error('unhandled request error', { path: req.path, error: describeError(error) });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(500).json({ error: 'server_error' });
  });

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

/** Expires the cookie older versions signed in with, so the browser stops sending it to every local port. */
function forgetLegacyCookie(res: Response): void {
  res.clearCookie(LEGACY_CONSOLE_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' });
}

const sameResource = (a: string, b: string) => a.replace(/\/$/, '') === b.replace(/\/$/, '');

function bearerMatches(header: string | undefined, expected: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The backend a request describes is invalid: the request's fault (400), naming the field the error carries. */
async function invalidAsArgument<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof GatewayError && error.code === 'config_invalid')) throw error;
    throw new GatewayError('invalid_argument', error.message, {
      cause: error,
      ...(error.field ? { field: error.field } : {}),
    });
  }
}

/** A tool override change from the console, or the message naming the field at fault. */
function parseToolOverride(body: unknown): ToolOverrideInput | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body: must be a JSON object';
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'enabled' && key !== 'access') return `${key}: unknown field (expected "enabled" or "access")`;
  }
  const change: ToolOverrideInput = {};
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') return 'enabled: must be true or false';
    change.enabled = input.enabled;
  }
  if (input.access !== undefined) {
    if (input.access !== null && input.access !== 'read' && input.access !== 'write') {
      return 'access: must be "read", "write" or null (the server\'s own classification)';
    }
    change.access = input.access;
  }
  return change;
}
