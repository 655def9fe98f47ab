import { timingSafeEqual } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { z } from 'zod';
import type { ConsoleSessionView, ConsoleSignIn } from '../api/contract.js';
import { API_ROUTES, type ApiRouteName } from '../api/routes.js';
import {
  activityQuerySchema,
  connectClientSchema,
  consentDecisionSchema,
  createTokenSchema,
  importSchema,
  parseInput,
  setClientScopesSchema,
  setGatewaySchema,
  settingsSchema,
  signInSchema,
  toolOverrideSchema,
} from '../api/schemas.js';
import type { ConsoleApi, OwnerCheck } from '../api/service.js';
import type { Origin } from '../oauth/server.js';
import { describeError, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isOwnOrigin, LEGACY_CONSOLE_COOKIE, type ConsoleSessions } from './console-auth.js';
import { refuse } from './errors.js';

export interface ApiRoutesOptions {
  api: ConsoleApi;
  /** The CLI's bearer for /api/*, kept in the 0600 runtime file. */
  ownerToken: string;
  /** Owner sign-in for the console (login links and sessions bound to the console's origin). */
  consoleSessions: ConsoleSessions;
  /** How the owner runs the CLI here, as the sign-in page prints it. */
  cliCommand: string;
  /** The issuer and resource for the origin a request used: personal tokens are minted for it. */
  originOf?: (req: Request) => Origin;
  logger: Logger;
}

/** What a route's handler gets: the path parameters, its parsed input, and the HTTP context. */
interface Call<I> {
  params: Record<string, string>;
  input: I;
  req: Request;
  res: Response;
  /** Throws unless the owner is still signed in (for a change that waited for its turn). */
  confirm: OwnerCheck;
}

interface Binding<S extends z.ZodType> {
  /** The input's schema: the JSON body, or the query string of a GET. Absent: the body as sent. */
  input?: S;
  /** The body's size limit (express.json); routes that take none read no body. */
  body?: '4kb' | '16kb' | '64kb';
  /** Answer status of a success. Default 200. */
  status?: number;
  /** Reachable without the owner's proof (the console's sign-in). */
  open?: true;
  /** Runs the operation; `undefined` means the handler answered itself. */
  run(api: ConsoleApi, call: Call<z.output<S>>, options: ApiRoutesOptions): unknown;
}

/** A binding with its input's type inferred from its schema. */
const bind = <S extends z.ZodType = z.ZodUnknown>(binding: Binding<S>): Binding<S> => binding;

/** Signals that the handler answered the request itself (the sign-in's own refusals). */
const ANSWERED = Symbol('answered');

/**
 * Every route of API_ROUTES, by name: its schema and the service method it calls. Keyed by the
 * route names, so the compiler refuses a route without a binding or a binding without a route.
 */
const BINDINGS: { [K in ApiRouteName]: Binding<z.ZodType> } = {
  backends: bind({ run: (api) => api.backends() }),
  backendStderr: bind({ run: (api, { params }) => api.backendStderr(params.name!) }),
  // Secret values come back as { secret: true }: the console can show and resend them, never read them.
  backendConfig: bind({ run: (api, { params }) => api.backendConfig(params.name!) }),
  // Edits take turns (src/config/editor.ts): each is applied, or refused with its reason (a
  // conflict with an edit that ran first is 409), never lost.
  putBackend: bind({
    body: '64kb',
    run: (api, { params, req, confirm }) => api.putBackend(params.name!, req.body, confirm),
  }),
  deleteBackend: bind({ run: (api, { params }) => api.deleteBackend(params.name!) }),
  restartBackend: bind({ run: (api, { params }) => api.restartBackend(params.name!) }),
  testBackend: bind({
    body: '64kb',
    run: (api, { params, req, confirm }) => api.testBackend(params.name!, req.body, confirm),
  }),
  loginLink: bind({ run: (api, { req }) => api.loginLink(`${req.protocol}://${req.headers.host}`) }),
  // Whether the console's stored session is live, and what its sign-in page prints; no sign-in
  // needed (the answer says nothing without a live secret, and no other origin can read it).
  session: bind({
    open: true,
    run: (_api, { req }, o): ConsoleSessionView => ({
      signedIn: o.consoleSessions.check(req).ok,
      cliCommand: o.cliCommand,
    }),
  }),
  // Signing in: the console page spends the one-time link's token for a session secret. The token
  // comes in the body and the secret goes back in the body, so neither is left in a server log or
  // the secret in a URL; from the console's own origin only (a fetch POST always sends Origin).
  signIn: bind({ open: true, body: '4kb', run: (_api, call, o) => signIn(call, o) }),
  // Signing out of the console: the session ends on the server, not just in this browser.
  logout: bind({
    run: async (_api, { req, res }, o) => {
      forgetLegacyCookie(res);
      await o.consoleSessions.end(req);
      return null;
    },
  }),
  catalogNotes: bind({ run: (api) => api.catalogNotes() }),
  gateway: bind({ run: (api) => api.gateway() }),
  setGateway: bind({ input: setGatewaySchema, body: '4kb', run: (api, { input }) => api.setGateway(input) }),
  tools: bind({ run: (api) => api.tools() }),
  activity: bind({ input: activityQuerySchema, run: (api, { input }) => api.activity(input) }),
  setToolOverride: bind({
    input: toolOverrideSchema,
    body: '16kb',
    run: (api, { params, input }) => api.setToolOverride(params.backend!, params.tool!, input),
  }),
  clients: bind({ run: (api) => api.clients() }),
  revokeClient: bind({ run: (api, { params }) => api.revokeClient(params.id!) }),
  setClientScopes: bind({
    input: setClientScopesSchema,
    body: '64kb',
    run: (api, { params, input }) => api.setClientScopes(params.id!, input.scopes),
  }),
  tokens: bind({ run: (api) => api.tokens() }),
  createToken: bind({
    input: createTokenSchema,
    body: '16kb',
    status: 201,
    run: (api, { input, req }, o) => api.createToken(input, o.originOf?.(req)),
  }),
  revokeToken: bind({ run: (api, { params }) => api.revokeToken(params.id!) }),
  rotateKeys: bind({ run: (api) => api.rotateKeys() }),
  pendingConsents: bind({ run: (api) => api.pendingConsents() }),
  decideConsent: bind({
    input: consentDecisionSchema,
    body: '16kb',
    run: (api, { params, input }) => api.decideConsent(params.id!, input),
  }),
  scopes: bind({ run: (api) => api.scopes() }),
  settings: bind({ run: (api) => api.settings() }),
  saveSettings: bind({ input: settingsSchema, body: '16kb', run: (api, { input }) => api.saveSettings(input) }),
  tunnel: bind({ run: (api) => api.tunnel() }),
  // Starting waits until the tunnel is up or has failed; a failure is answered 502 with its reason.
  startTunnel: bind({ run: (api) => api.startTunnel() }),
  stopTunnel: bind({ run: (api) => api.stopTunnel() }),
  connections: bind({ run: (api) => api.connections() }),
  connectClient: bind({
    input: connectClientSchema,
    body: '16kb',
    run: (api, { params, input }) => api.connectClient(params.client!, input),
  }),
  disconnectClient: bind({ run: (api, { params }) => api.disconnectClient(params.client!) }),
  importPreview: bind({ run: (api, { params }) => api.importPreview(params.client!) }),
  importServers: bind({
    input: importSchema,
    body: '16kb',
    run: (api, { params, input }) => api.importServers(params.client!, input),
  }),
};

/** Mounts every route of API_ROUTES on `app`, each answering an `ApiResult`. */
export function mountApiRoutes(app: Express, express: typeof expressModule, options: ApiRoutesOptions): void {
  // The owner API is for the console's own page and the CLI: no other origin may call it, so no
  // CORS preflight is ever approved (Fetch §4.8). That is what keeps another page from sending the
  // console's session header, so it is answered here, explicitly, rather than left to a default.
  app.options(['/api', '/api/*path'], (_req, res) => {
    refuse(res, 403, { code: 'forbidden', message: 'The owner API allows no other origin' });
  });

  // The owner: the CLI with the runtime file's token, or the console with its session header (no
  // cookie proves anything: a cookie for 127.0.0.1 reaches every port). See ConsoleSessions#check.
  const ownerOnly = (req: Request, res: Response, next: NextFunction) => {
    if (bearerMatches(req.headers.authorization, options.ownerToken)) return next();
    const verdict = options.consoleSessions.check(req);
    if (verdict.ok) return next();
    refuse(res, verdict.status, { code: verdict.code, message: verdict.message });
  };
  // Routes that run a command (or save one that will run) ask again when they act, after the body
  // has arrived and in the edit's turn: a session signed out in between no longer counts.
  const confirmFor = (req: Request) => () => {
    if (bearerMatches(req.headers.authorization, options.ownerToken)) return;
    if (options.consoleSessions.ownerPresent(req)) return;
    throw new GatewayError('unauthorized', 'Owner sign-in required: the console session ended before the change ran');
  };

  for (const [name, spec] of Object.entries(API_ROUTES) as Array<[ApiRouteName, string]>) {
    const [method, path] = spec.split(' ') as [string, string];
    const binding = BINDINGS[name];
    const handlers = [
      ...(binding.open ? [] : [ownerOnly]),
      ...(binding.body ? [express.json({ limit: binding.body })] : []),
      async (req: Request, res: Response) => {
        const source: unknown = method === 'GET' ? req.query : req.body;
        const input = binding.input ? parseInput(binding.input, source) : undefined;
        const params = req.params as Record<string, string>;
        const value = await binding.run(options.api, { params, input, req, res, confirm: confirmFor(req) }, options);
        if (value === ANSWERED) return;
        res.status(binding.status ?? 200).json({ ok: true, value: value ?? null });
      },
    ];
    app[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path, ...handlers);
  }
}

async function signIn(
  { req, res }: Call<unknown>,
  options: ApiRoutesOptions,
): Promise<ConsoleSignIn | typeof ANSWERED> {
  res.set('Cache-Control', 'no-store');
  forgetLegacyCookie(res);
  if (!isOwnOrigin(req)) {
    refuse(res, 403, {
      code: 'forbidden',
      message: 'Sign in from the console page of this gateway (its exact origin)',
    });
    return ANSWERED;
  }
  const body = signInSchema.safeParse(req.body);
  const session = body.success ? await options.consoleSessions.redeem(body.data.token) : undefined;
  if (!session) {
    refuse(res, 401, {
      code: 'unauthorized',
      message: `This sign-in link was already used or has expired. Run "${options.cliCommand} login" for a new one.`,
      field: 'token',
    });
    return ANSWERED;
  }
  // A browser signing in again (the desktop window opens a fresh link each time) replaces the
  // session it held: that one ends rather than lingering for its 7 days.
  await options.consoleSessions
    .end(req)
    .catch((error: unknown) =>
      options.logger.warn('the replaced console session could not be removed', { error: describeError(error) }),
    );
  return session;
}

/** Expires the cookie older versions signed in with, so the browser stops sending it to every local port. */
function forgetLegacyCookie(res: Response): void {
  res.clearCookie(LEGACY_CONSOLE_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' });
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
