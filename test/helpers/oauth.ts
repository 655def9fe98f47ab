import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { CONSOLE_SESSION_HEADER } from '../../src/api/contract.js';
import type { Gateway } from '../../src/index.js';
import { consoleSignIn, type ConsoleSession } from './console-session.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * An in-memory OAuthClientProvider, as a desktop client would implement it: it registers, keeps
 * tokens, and "opens the browser" by recording the authorization URL for the test to visit.
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;

  constructor(
    readonly redirect = 'http://127.0.0.1:53682/callback',
    readonly name = 'Test Desktop Client',
    readonly scope?: string,
  ) {}

  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this.scope ? { scope: this.scope } : {}),
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

export interface ConsentForm {
  action: string;
  /** The request's id (listed) or its sealed form (unlisted); empty when the page has no form. */
  requestId: string;
  csrf: string;
  scopes: Array<{ value: string; checked: boolean }>;
  /** The code the waiting page shows (absent for an unlisted request). */
  userCode: string | undefined;
  /** Where the waiting page polls (its refresh), absolute; absent for an unlisted request. */
  waitUrl: URL | undefined;
  html: string;
  headers: Headers;
}

/** Opens the authorization URL like a browser and reads the page: code, polling URL, consent form. */
export async function openConsent(authorizationUrl: URL): Promise<ConsentForm> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`consent page answered ${res.status}: ${html.slice(0, 200)}`);
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const scopes = [...html.matchAll(/<input type="checkbox" name="scope" value="([^"]+)"( checked)?>/g)].map((m) => ({
    value: m[1]!,
    checked: Boolean(m[2]),
  }));
  const refresh = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  return {
    action: new URL('/consent', authorizationUrl).href,
    requestId: field('request_id'),
    csrf: field('csrf'),
    scopes,
    userCode: /id="request-code">([^<]+)</.exec(html)?.[1],
    waitUrl: refresh ? new URL(refresh, authorizationUrl) : undefined,
    html,
    headers: res.headers,
  };
}

const ownerSessions = new WeakMap<Gateway, Promise<ConsoleSession>>();

/**
 * The owner signed in to the gateway's console (one session per gateway, as a browser keeps it):
 * what proves the owner is present when the consent page's script sends a decision.
 */
export function ownerSession(gateway: Gateway): Promise<ConsoleSession> {
  let session = ownerSessions.get(gateway);
  if (!session) {
    session = consoleSignIn(gateway.consoleLoginUrl());
    ownerSessions.set(gateway, session);
  }
  return session;
}

/**
 * Submits the consent form. With `owner`, as the consent page's script does in a browser signed in
 * to the console: the session in its header, from the page's own origin (the answer is JSON, see
 * `decisionLocation`). Without, as a plain form POST, which the gateway refuses.
 */
export async function submitConsent(
  form: ConsentForm,
  decision: 'approve' | 'deny',
  scopes: string[] = form.scopes.filter((s) => s.checked).map((s) => s.value),
  overrides: { csrf?: string; requestId?: string; owner?: ConsoleSession; origin?: string } = {},
): Promise<Response> {
  const body = new URLSearchParams({
    request_id: overrides.requestId ?? form.requestId,
    csrf: overrides.csrf ?? form.csrf,
    decision,
  });
  for (const scope of scopes) body.append('scope', scope);
  return fetch(form.action, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: overrides.origin ?? new URL(form.action).origin,
      ...(overrides.owner ? { [CONSOLE_SESSION_HEADER]: overrides.owner.secret, accept: 'application/json' } : {}),
    },
    body,
  });
}

/** Where the consent page's script is sent after a decision (the callback with the code or the error). */
export async function decisionLocation(res: Response): Promise<URL> {
  const body = (await res.json()) as { ok: boolean; value?: { location: string }; error?: unknown };
  if (res.status !== 200 || !body.ok) throw new Error(`consent answered ${res.status}: ${JSON.stringify(body)}`);
  return new URL(body.value!.location);
}

/**
 * The owner's side of a consent, in a browser signed in to the console: open the page, approve
 * (the scopes it ticks, read access at most, unless given), return the callback URL.
 */
export async function approve(authorizationUrl: URL, owner: ConsoleSession, scopes?: string[]): Promise<URL> {
  const form = await openConsent(authorizationUrl);
  return decisionLocation(await submitConsent(form, 'approve', scopes, { owner }));
}

/** What /mcp answers an initialize with this bearer: 200 when the token verifies, 401 when refused. */
export async function mcpStatus(mcpUrl: URL | string, bearer: string): Promise<number> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  await res.text();
  return res.status;
}

/**
 * An authorization request with a fresh PKCE pair (S256): the `/authorize` URL on `mcpUrl`'s origin
 * and the verifier the token request needs. `scope: null` names none; `state` is sent when given.
 */
export function authorizationRequest(
  mcpUrl: URL | string,
  request: { clientId: string; redirectUri: string; scope?: string | null; state?: string },
): { url: URL; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/authorize', mcpUrl);
  const scope = request.scope === undefined ? 'mcp:toy:read' : request.scope;
  url.search = new URLSearchParams({
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    ...(request.state === undefined ? {} : { state: request.state }),
    ...(scope === null ? {} : { scope }),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url, verifier };
}
