import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ClientView, PendingConsentView } from './views.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { isStorageError } from '../store/fs-errors.js';
import { cleanClientName, makeRoomForCimdClient, makeRoomForDcrClient, sweepOAuthState } from './client-limits.js';
import { ClientMetadataFetcher, isMetadataClientId } from './client-metadata.js';
import { renderRequestPage, type ScopeGroup } from './consent-page.js';
import { OAuthError } from './errors.js';
import { rememberedGrant } from './grants.js';
import type { KeyRing } from './keys.js';
import { RefreshGrace } from './refresh-grace.js';
import { checkRedirectUris, matchRedirectUri } from './redirect-uri.js';
import { newUserCode, type Requester } from './requester.js';
import type { ClientRecord, OAuthStore, RefreshFamily } from './store.js';
import { createTokenVerifier, issueAccessToken, type TokenVerifier } from './tokens.js';

/** Where a request came in: the issuer and resource are those of the origin the client used. */
export interface Origin {
  issuer: string;
  resource: string;
  /**
   * The listener the request came in on (`local`: every loopback spelling and allowed host;
   * `tunnel`). Budgets such as the registration limit are per listener, whatever Host was used.
   */
  listener?: 'local' | 'tunnel';
}

export interface AuthorizationServerOptions {
  store: OAuthStore;
  keys: KeyRing;
  clock: Clock;
  logger: Logger;
  /** Every origin this gateway answers on (loopback spellings, later the tunnel). */
  origins: () => readonly Origin[];
  supportedScopes: () => readonly string[];
  scopeGroups: () => readonly ScopeGroup[];
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /**
   * A just-rotated refresh token presented again within this window gets the same answer as the
   * first time (clients retry a response they lost); after it, the token's return revokes the grant.
   */
  refreshGraceMs?: number;
  /** Where a request may be approved, and who is told it waits; see `ConsentPrompter`. */
  prompter?: ConsentPrompter;
  /** How the owner types the CLI here, as the local listener's pages print it. Default: `cortex-gateway`. */
  cliCommand?: string;
  /** Fetches Client ID Metadata Documents (https client ids); fenced against SSRF by default. */
  clientMetadata?: ClientMetadataFetcher;
}

export type { PendingConsentView } from './views.js';
export type { Requester } from './requester.js';

/**
 * The consent step as a port. Whatever the mode, a request waits in the owner's approval list
 * (console, tray, `approvals` CLI) with a short code its page shows, and `requested` is told so
 * the app can notify. `page`: besides, a browser signed in to the console (the owner's own) may
 * approve on the page itself; right for a listener only this machine reaches. `owner`: the list is
 * the only way, for listeners reachable from elsewhere (the tunnel, `allowedHosts`, a non-loopback
 * bind), where a console session in the requesting browser proves too little.
 */
export interface ConsentPrompter {
  mode(origin: Origin): 'page' | 'owner';
  requested?(request: PendingConsentView): void;
  /** The approval list changed (a request joined, was decided or expired): the app recounts, not polls. */
  changed?(): void;
}

const BROWSER_PROMPTER: ConsentPrompter = { mode: () => 'page' };

interface PendingAuthorization {
  id: string;
  csrf: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  issuer: string;
  requestedScopes: string[];
  createdAt: number;
  mode: 'page' | 'owner';
  /** The owner's decision in the app, collected by the waiting browser on its next poll. */
  decision?: { approve: boolean; scopes: string[] };
}

/** A request in the owner's approval list: who made it, and the code its page shows. */
interface WaitingRequest extends PendingAuthorization {
  userCode: string;
  listener: 'local' | 'tunnel';
  requester: Requester;
  /** What approving grants unless the owner chooses: read access at most, or what the owner granted before. */
  suggestedScopes: string[];
  /** The owner approved this client before: approving again keeps that grant. */
  returning: boolean;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  subject: string;
  expiresAt: number;
  /**
   * The exchange of this code, under way or done. Set before the first await of the exchange, so
   * any later presentation, even one arriving at the same moment, finds it and is a replay.
   * Cleared only when an exchange failed without issuing anything, for the client to retry.
   */
  exchange?: Promise<TokenResponse>;
  /** Presented again: whatever the exchange issued is revoked and given to nobody (RFC 6749 §4.1.2). */
  replayed: boolean;
  /** What the code was exchanged for. */
  issued: { familyId?: string; jtis: string[] };
}

/** A rotation's answer, kept for the grace window with the time its access token expires. */
interface RotationAnswer {
  response: TokenResponse;
  accessExpiresAt: number;
}

export type AuthorizeOutcome =
  | { kind: 'page'; status: number; html: string }
  | { kind: 'error-page'; status: number; title: string; message: string; code?: string }
  | { kind: 'redirect'; location: string };

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

const OWNER = 'owner';
const CODE_TTL_MS = 60_000;
const PENDING_TTL_MS = 10 * 60_000;
/**
 * The owner's approval list is open to anyone who can reach a listener (a metadata-document client
 * needs no registration), so what one requester can put in it is capped: in all, per client and
 * per address. A request over a cap is not listed and notifies nobody. Where an owner session in
 * the browser may approve on the page, it is still served, as an unlisted request the gateway keeps
 * nothing of (its page carries it, sealed): nothing can fill that up, so the owner's own sign-in
 * can always be approved from a browser signed in to the console. Elsewhere it is refused (429).
 */
const LISTED_CAPS = { total: 20, perClient: 3, perAddress: 5 } as const;
/** An unlisted request's page is good for this long. */
const UNLISTED_TTL_MS = 10 * 60_000;
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

const errorPage = (title: string, message: string, status = 400, code?: string): AuthorizeOutcome => ({
  kind: 'error-page',
  status,
  title,
  message,
  ...(code ? { code } : {}),
});
const EXPIRED = () => errorPage('Request expired', 'Start the sign-in again from your application.', 400, 'expired');

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const stripSlash = (value: string) => (value.endsWith('/') ? value.slice(0, -1) : value);

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function appendParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}

/**
 * RFC 6749 §2.3.1: Basic credentials are the form-urlencoded client id and secret, joined by a
 * colon, in base64. Anything else (no colon, a broken percent escape, not base64) is undefined.
 */
function parseBasic(encoded: string): { clientId: string; secret: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined; // URIError: a malformed percent escape
  }
}

/**
 * The authorization server's logic, free of HTTP framework concerns: each endpoint is a method
 * taking the parsed request and returning what to send, or throwing an OAuthError.
 */
/** A Map that reports each set and each delete that removed something. */
class ReportingMap<K, V> extends Map<K, V> {
  constructor(readonly report: () => void) {
    super();
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    // Map's constructor calls set before `report` exists; nothing to report then.
    this.report?.();
    return this;
  }
  override delete(key: K): boolean {
    const removed = super.delete(key);
    if (removed) this.report();
    return removed;
  }
}

export class AuthorizationServer {
  readonly verify: TokenVerifier;
  readonly #options: Required<Omit<AuthorizationServerOptions, 'logger'>> & { logger: Logger };
  /** Sign-ins waiting for the owner; every change is reported to the prompter (tray counts, no polling). */
  readonly #pending = new ReportingMap<string, WaitingRequest>(() => this.#options.prompter.changed?.());
  readonly #codes = new Map<string, IssuedCode>();
  readonly #refreshGrace: RefreshGrace<RotationAnswer>;
  /** Registration times in the last minute, per listener. */
  readonly #registrations = new Map<string, number[]>();
  /** Signs unlisted requests, which only their page carries (a new key per process). */
  readonly #sealKey = randomBytes(32);
  /**
   * Unlisted requests already decided, until they expire: each is decided once. Only the owner adds
   * to it (a decision needs the owner present), so nobody else can grow it.
   */
  readonly #decidedUnlisted = new Map<string, number>();

  constructor(options: AuthorizationServerOptions) {
    this.#options = {
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 90 * 24 * 3600,
      refreshGraceMs: 30_000,
      prompter: BROWSER_PROMPTER,
      cliCommand: 'cortex-gateway',
      clientMetadata: new ClientMetadataFetcher({ logger: options.logger, now: () => options.clock.now() }),
      ...options,
    };
    this.#refreshGrace = new RefreshGrace(this.#options.refreshGraceMs);
    this.verify = createTokenVerifier({
      keys: options.keys,
      issuers: () => options.origins().map((o) => o.issuer),
      resources: () => options.origins().map((o) => o.resource),
      clock: options.clock,
      isRevoked: ({ jti, clientId, issuedAt }) => {
        const state = options.store.state;
        const clientRevokedAt = state.revokedClients[clientId];
        return jti in state.revokedJtis || (clientRevokedAt !== undefined && issuedAt <= clientRevokedAt);
      },
    });
  }

  get #now(): number {
    return this.#options.clock.now();
  }

  jwks() {
    return this.#options.keys.jwks();
  }

  /** A new signing key; tokens signed with the previous ones keep verifying until they expire. */
  async rotateKeys(): Promise<string> {
    await this.#options.keys.rotate(this.#now);
    return this.#options.keys.signingKey.kid;
  }

  // --- metadata --------------------------------------------------------------------------------

  /** RFC 8414 authorization server metadata. */
  metadata(origin: Origin): Record<string, unknown> {
    const base = origin.issuer;
    return {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      registration_endpoint: `${base}/register`,
      revocation_endpoint: `${base}/revoke`,
      jwks_uri: `${base}/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      scopes_supported: [...this.#options.supportedScopes()],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    };
  }

  /** RFC 9728 protected resource metadata for the MCP endpoint. */
  protectedResourceMetadata(origin: Origin): Record<string, unknown> {
    return {
      resource: origin.resource,
      authorization_servers: [origin.issuer],
      scopes_supported: [...this.#options.supportedScopes()],
      bearer_methods_supported: ['header'],
      resource_name: 'Cortex Gateway',
    };
  }

  // --- RFC 7591 dynamic client registration ------------------------------------------------------

  async register(body: unknown, origin?: Origin): Promise<Record<string, unknown>> {
    // A local gateway sees every registration from 127.0.0.1 (and, behind a tunnel, so does every
    // internet client), so the limit is per listener rather than per address: a flood through the
    // public tunnel cannot lock out the clients on this machine. Per listener, not per Host
    // spelling: 127.0.0.1, localhost and [::1] reach the same listener and share its budget.
    const now = this.#now;
    const key = origin?.listener ?? origin?.issuer ?? '';
    const recent = (this.#registrations.get(key) ?? []).filter((t) => now - t <= 60_000);
    this.#registrations.set(key, recent);
    if (recent.length >= 30) {
      throw new OAuthError('slow_down', 'Too many registrations; try again in a minute', 429);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new OAuthError('invalid_client_metadata', 'Registration body must be a JSON object');
    }
    const input = body as Record<string, unknown>;
    const uris = checkRedirectUris(input.redirect_uris);
    if (!uris.ok) throw new OAuthError('invalid_redirect_uri', uris.reason);
    const requested = input.token_endpoint_auth_method;
    const method =
      requested === 'client_secret_post' || requested === 'client_secret_basic'
        ? requested
        : requested === undefined
          ? 'none'
          : 'none';
    if (
      requested !== undefined &&
      requested !== 'none' &&
      requested !== 'client_secret_post' &&
      requested !== 'client_secret_basic'
    ) {
      throw new OAuthError(
        'invalid_client_metadata',
        `token_endpoint_auth_method ${String(requested)} is not supported`,
      );
    }
    const clientId = randomUUID();
    const secret = method === 'none' ? undefined : randomBytes(32).toString('base64url');
    const record: ClientRecord = {
      clientId,
      redirectUris: uris.uris,
      tokenEndpointAuthMethod: method,
      source: 'dcr',
      createdAt: now,
    };
    // Cleaned once, here: pages and logs never get bidi overrides or line breaks from a name.
    const name = cleanClientName(input.client_name);
    if (name) record.clientName = name;
    if (typeof input.client_uri === 'string') record.clientUri = input.client_uri.slice(0, 500);
    if (secret) record.clientSecretHash = sha256(secret);
    recent.push(now);
    await this.#options.store.update((state) => {
      sweepOAuthState(state, now);
      makeRoomForDcrClient(state, now);
      state.clients[clientId] = record;
    });
    this.#options.logger.info('client registered', { clientId, name: record.clientName });
    return {
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      redirect_uris: record.redirectUris,
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...(record.clientName ? { client_name: record.clientName } : {}),
    };
  }

  /**
   * A registered client, or one described by its Client ID Metadata Document (fetched, then kept
   * in the store so the owner sees it among the clients and its grants survive restarts).
   */
  async #client(clientId: string): Promise<ClientRecord | undefined> {
    const known = this.#options.store.state.clients[clientId];
    if (known && known.source !== 'cimd') return known;
    if (!isMetadataClientId(clientId)) return known;
    // Its name cleaned here, at storage time, whatever the fetcher returned.
    const { clientName, ...document } = await this.#options.clientMetadata.client(clientId);
    const name = cleanClientName(clientName);
    const fetched: ClientRecord = { ...document, ...(name ? { clientName: name } : {}) };
    if (
      !known ||
      JSON.stringify(known.redirectUris) !== JSON.stringify(fetched.redirectUris) ||
      known.clientName !== fetched.clientName
    ) {
      const now = this.#now;
      await this.#options.store.update((state) => {
        sweepOAuthState(state, now);
        const stored = state.clients[clientId];
        // A new one needs a place among the stored metadata-document clients (or is refused).
        if (!stored) makeRoomForCimdClient(state, now);
        state.clients[clientId] = {
          ...fetched,
          createdAt: stored?.createdAt ?? fetched.createdAt,
          ...(stored?.lastUsedAt !== undefined ? { lastUsedAt: stored.lastUsedAt } : {}),
        };
      });
    }
    return this.#options.store.state.clients[clientId];
  }

  // --- authorization endpoint ---------------------------------------------------------------------

  async authorize(
    query: Record<string, string | undefined>,
    origin: Origin,
    requester: Requester = {},
  ): Promise<AuthorizeOutcome> {
    this.#expirePending();
    // RFC 6749 §4.1.2.1: until client and redirect URI are known good, errors are shown, never redirected.
    let client: ClientRecord | undefined;
    try {
      client = query.client_id ? await this.#client(query.client_id) : undefined;
    } catch (error) {
      // The client's metadata document was fetched but could not be saved: not the client's fault.
      if (isStorageError(error)) throw error;
      const message = error instanceof OAuthError ? error.description : 'The application could not be identified.';
      return errorPage('Unknown application', message);
    }
    if (!client) {
      return errorPage('Unknown application', 'This client is not registered with Cortex Gateway.');
    }
    let redirectUri = query.redirect_uri;
    if (redirectUri === undefined && client.redirectUris.length === 1) redirectUri = client.redirectUris[0];
    if (!redirectUri || !matchRedirectUri(redirectUri, client.redirectUris)) {
      return errorPage('Invalid redirect', 'The address this application wants to return to is not one it registered.');
    }
    const fail = (error: string, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      // RFC 9207: iss on every authorization response, errors included.
      location: appendParams(redirectUri, {
        error,
        error_description: description,
        state: query.state,
        iss: origin.issuer,
      }),
    });
    if (query.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (!query.code_challenge) return fail('invalid_request', 'PKCE is required: code_challenge is missing');
    if (query.code_challenge_method !== 'S256')
      return fail('invalid_request', 'PKCE code_challenge_method must be S256');
    if (!/^[A-Za-z0-9_-]{43}$/.test(query.code_challenge))
      return fail('invalid_request', 'code_challenge is not a S256 challenge');
    // RFC 8707: a resource we do not serve is invalid_target.
    const resource = query.resource ?? origin.resource;
    if (stripSlash(resource) !== stripSlash(origin.resource))
      return fail('invalid_target', `Unknown resource ${resource}`);

    const supported = this.#options.supportedScopes();
    const requested = (query.scope ?? '').split(/[\s,]+/).filter((s) => supported.includes(s));
    const pending: PendingAuthorization = {
      id: randomUUID(),
      csrf: randomBytes(24).toString('base64url'),
      clientId: client.clientId,
      redirectUri,
      state: query.state,
      codeChallenge: query.code_challenge,
      resource: origin.resource,
      issuer: origin.issuer,
      requestedScopes: [...new Set(requested)],
      createdAt: this.#now,
      mode: this.#options.prompter.mode(origin),
    };

    // The owner decided for this client before: it gets that decision, whatever it asks for now
    // (grants.ts), so a server added since does not send it through consent again. It still needs
    // the owner's presence, never a code handed to whoever asks: any local process may start an
    // authorization with a known client id and a loopback redirect on a port of its own (RFC 8252
    // §7.3 lets the port vary), and a metadata-document id is a public URL. So the page continues
    // by itself in a browser signed in to the console, and waits in the approval list elsewhere.
    const remembered = rememberedGrant(this.#options.store.state.consents[client.clientId], supported);
    return this.#ask(pending, client, origin, requester, remembered);
  }

  /**
   * A request the owner must decide (after any remembered consent). It waits in the owner's list,
   * with a code its page shows and the approval view repeats, so the owner approves the request
   * their own browser made and not a look-alike. Over the caps it is unlisted (see LISTED_CAPS).
   */
  #ask(
    request: PendingAuthorization,
    client: ClientRecord,
    origin: Origin,
    requester: Requester,
    /** The owner's earlier decision for this client: approving it again needs no choice. */
    remembered?: string[],
  ): AuthorizeOutcome {
    const suggestedScopes = remembered ?? this.#readOnlyDefault(request.requestedScopes);
    const returning = remembered !== undefined;
    if (this.#overCaps(request.clientId, requester.address)) {
      if (request.mode !== 'page') {
        this.#options.logger.warn('sign-in refused: too many waiting for the owner', { clientId: client.clientId });
        return errorPage(
          'Too many sign-ins waiting',
          'The owner has too many sign-ins to approve; try again later.',
          429,
          'too_many_waiting',
        );
      }
      this.#options.logger.warn('sign-in not listed: too many waiting for the owner', { clientId: client.clientId });
      return this.#page(request, client, suggestedScopes, undefined, returning);
    }
    let userCode = newUserCode();
    while ([...this.#pending.values()].some((p) => p.userCode === userCode)) userCode = newUserCode();
    const waiting: WaitingRequest = {
      ...request,
      userCode,
      listener: origin.listener ?? 'local',
      requester,
      suggestedScopes,
      returning,
    };
    this.#pending.set(waiting.id, waiting);
    // Expiry is otherwise noticed lazily; the app's count must drop when the request does.
    setTimeout(() => this.#expirePending(), PENDING_TTL_MS + 1000).unref();
    const view = this.#view(waiting);
    this.#options.logger.info('sign-in waits for the owner', {
      clientId: client.clientId,
      listener: view.listener,
      requestCode: userCode,
    });
    this.#options.prompter.requested?.(view);
    return this.#page(waiting, client, suggestedScopes, userCode, returning);
  }

  /** The page of a listed request (with its code), or of an unlisted one (sealed into its form). */
  #page(
    request: PendingAuthorization,
    client: ClientRecord,
    suggestedScopes: readonly string[],
    userCode: string | undefined,
    returning: boolean,
  ): AuthorizeOutcome {
    const redirect = new URL(request.redirectUri);
    const html = renderRequestPage({
      clientName: client.clientName ?? 'An unnamed application',
      clientId: client.clientId,
      redirectHost: redirect.host || redirect.protocol,
      // The CLI's spelling may name the owner's home folder: only for pages this machine alone reaches.
      cli: request.mode === 'page' ? this.#options.cliCommand : 'cortex-gateway',
      ...(userCode
        ? {
            userCode,
            waitUrl: `/authorize/wait?request=${encodeURIComponent(request.id)}&token=${encodeURIComponent(request.csrf)}`,
          }
        : {}),
      ...(request.mode === 'page'
        ? {
            form: {
              requestId: userCode ? request.id : this.#seal(request),
              csrf: request.csrf,
              groups: this.#options.scopeGroups(),
              checked: new Set(suggestedScopes),
              returning,
            },
          }
        : {}),
    });
    return { kind: 'page', status: 200, html };
  }

  /**
   * The owner's answer on the consent page, sent by the page's script. Only the owner decides here:
   * `ownerPresent` is the proof (a live console session in the request's header, from this
   * listener's exact origin). A form POST without it is refused, whatever CSRF token it carries:
   * the token is in the page, which any process that started the request can read.
   */
  async decide(form: Record<string, string | string[] | undefined>, ownerPresent: boolean): Promise<AuthorizeOutcome> {
    this.#expirePending();
    if (!ownerPresent) {
      return errorPage(
        'Only the owner can approve',
        'Approving a sign-in needs the owner of this gateway: a browser signed in to its console, at the same ' +
          'address, or the approval list (the console’s Clients & access, the desktop notification, or ' +
          '"cortex-gateway approvals").',
        403,
        'owner_required',
      );
    }
    const id = typeof form.request_id === 'string' ? form.request_id : '';
    const unlisted = id.startsWith('u.') ? this.#unseal(id) : undefined;
    const listed = unlisted ? undefined : this.#pending.get(id);
    const pending = unlisted ?? listed;
    if (!pending || (unlisted && this.#decidedUnlisted.has(unlisted.id))) return EXPIRED();
    if (typeof form.csrf !== 'string' || !safeEqual(form.csrf, pending.csrf)) {
      return errorPage('Request refused', 'The consent form was not valid for this request.', 403, 'invalid_form');
    }
    if (pending.mode !== 'page') {
      return errorPage(
        'Request refused',
        'This request came in where only the approval list may decide it.',
        403,
        'approval_list_only',
      );
    }
    if (listed?.decision) {
      return errorPage(
        'Already decided',
        'The owner decided this request in the approval list.',
        409,
        'already_decided',
      );
    }
    const approve = form.decision === 'approve';
    const scopes = [form.scope ?? []].flat();
    if (listed) {
      this.#pending.delete(id);
      return this.#finishOrRestore(listed, approve, scopes, () => this.#pending.set(id, listed));
    }
    this.#decidedUnlisted.set(pending.id, pending.createdAt + UNLISTED_TTL_MS);
    return this.#finishOrRestore(pending, approve, scopes, () => this.#decidedUnlisted.delete(pending.id));
  }

  /** Requests waiting for the owner's decision, oldest first. */
  pendingConsents(): PendingConsentView[] {
    this.#expirePending();
    return [...this.#pending.values()].filter((p) => !p.decision).map((p) => this.#view(p));
  }

  /**
   * The owner's decision in the approval list; the waiting browser picks it up on its next poll.
   * Without `scopes` the request gets its suggested scopes: read access at most.
   */
  decideAsOwner(id: string, approve: boolean, scopes?: readonly string[]): boolean {
    this.#expirePending();
    const pending = this.#pending.get(id);
    if (!pending || pending.decision) return false;
    pending.decision = { approve, scopes: [...(scopes ?? pending.suggestedScopes)] };
    this.#options.prompter.changed?.();
    this.#options.logger.info(approve ? 'owner approved a sign-in' : 'owner denied a sign-in', {
      clientId: pending.clientId,
      requestCode: pending.userCode,
    });
    return true;
  }

  /**
   * The waiting page polls here, with the request's secret (its CSRF token, which only the page
   * that made the request was given): the decision once made, else the page again. The answer
   * with the code goes to that page only, once: the request is gone after it.
   */
  async wait(query: Record<string, string | undefined>): Promise<AuthorizeOutcome> {
    this.#expirePending();
    const pending = query.request ? this.#pending.get(query.request) : undefined;
    if (!pending) {
      return EXPIRED();
    }
    if (!query.token || !safeEqual(query.token, pending.csrf)) {
      return errorPage('Request refused', 'This page is not the one that made the request.', 403);
    }
    if (!pending.decision) {
      const client = this.#options.store.state.clients[pending.clientId];
      if (!client) return EXPIRED();
      return this.#page(pending, client, pending.suggestedScopes, pending.userCode, pending.returning);
    }
    this.#pending.delete(pending.id);
    return this.#finishOrRestore(pending, pending.decision.approve, pending.decision.scopes, () =>
      this.#pending.set(pending.id, pending),
    );
  }

  /**
   * #finish, with the request put back when the consent could not be saved (a full disk): the
   * owner can submit again once there is space, instead of the application starting over.
   */
  async #finishOrRestore(
    pending: PendingAuthorization,
    approve: boolean,
    chosenScopes: readonly unknown[],
    restore: () => void,
  ): Promise<AuthorizeOutcome> {
    try {
      return await this.#finish(pending, approve, chosenScopes);
    } catch (error) {
      restore();
      throw error;
    }
  }

  async #finish(
    pending: PendingAuthorization,
    approve: boolean,
    chosenScopes: readonly unknown[],
  ): Promise<AuthorizeOutcome> {
    if (!approve) {
      return {
        kind: 'redirect',
        location: appendParams(pending.redirectUri, {
          error: 'access_denied',
          error_description: 'The owner denied access',
          state: pending.state,
          iss: pending.issuer,
        }),
      };
    }
    const supported = this.#options.supportedScopes();
    const scopes = [
      ...new Set(chosenScopes.filter((s): s is string => typeof s === 'string' && supported.includes(s))),
    ];
    await this.#options.store.update((state) => {
      state.consents[pending.clientId] = { clientId: pending.clientId, scopes, decidedAt: this.#now };
    });
    this.#options.logger.info('access granted', { clientId: pending.clientId, scopes: scopes.join(' ') });
    return { kind: 'redirect', location: this.#issueCode(pending, scopes) };
  }

  /** A waiting request as the owner's approval views show it: what it asks and where it came from. */
  #view(pending: WaitingRequest): PendingConsentView {
    const client = this.#options.store.state.clients[pending.clientId];
    const redirect = new URL(pending.redirectUri);
    const cimd = client?.source === 'cimd';
    return {
      id: pending.id,
      userCode: pending.userCode,
      clientId: pending.clientId,
      clientName: client?.clientName ?? 'An unnamed application',
      clientSource: cimd ? 'cimd' : 'dcr',
      ...(cimd ? { clientDomain: new URL(pending.clientId).host } : {}),
      ...(client ? { clientRegisteredAt: client.createdAt } : {}),
      redirectHost: redirect.host || redirect.protocol,
      requestedScopes: pending.requestedScopes,
      suggestedScopes: pending.suggestedScopes,
      ...(pending.returning ? { returning: true } : {}),
      listener: pending.listener,
      origin: pending.issuer,
      ...(pending.requester.address ? { remoteAddress: pending.requester.address } : {}),
      ...(pending.requester.userAgent ? { userAgent: pending.requester.userAgent } : {}),
      createdAt: pending.createdAt,
    };
  }

  /**
   * What the consent form ticks and an approval without a choice grants: read access at most. A
   * write scope asked for becomes its server's read scope; a client that names none gets every
   * server's read scope. Write access is the owner's explicit choice.
   */
  #readOnlyDefault(requested: readonly string[]): string[] {
    const groups = this.#options.scopeGroups();
    const reads = new Set(groups.map((g) => g.readScope));
    const chosen =
      requested.length === 0
        ? [...reads]
        : requested.map((s) => groups.find((g) => g.writeScope === s)?.readScope ?? s).filter((s) => reads.has(s));
    const supported = this.#options.supportedScopes();
    return [...new Set(chosen)].filter((s) => supported.includes(s));
  }

  /** Whether the owner's list holds as many undecided requests as LISTED_CAPS allow, for this requester. */
  #overCaps(clientId: string, address: string | undefined): boolean {
    const listed = [...this.#pending.values()].filter((p) => !p.decision);
    return (
      listed.length >= LISTED_CAPS.total ||
      listed.filter((p) => p.clientId === clientId).length >= LISTED_CAPS.perClient ||
      (address !== undefined && listed.filter((p) => p.requester.address === address).length >= LISTED_CAPS.perAddress)
    );
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#sealKey).update(payload).digest('base64url');
  }

  /** An unlisted request, signed, for its page to carry: the gateway keeps nothing of it. */
  #seal(request: PendingAuthorization): string {
    const payload = Buffer.from(JSON.stringify(request)).toString('base64url');
    return `u.${payload}.${this.#mac(payload)}`;
  }

  #unseal(sealed: string): PendingAuthorization | undefined {
    const [, payload = '', mac = ''] = sealed.split('.');
    if (!safeEqual(mac, this.#mac(payload))) return undefined;
    const request = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PendingAuthorization;
    return this.#now - request.createdAt > UNLISTED_TTL_MS ? undefined : request;
  }

  #issueCode(pending: PendingAuthorization, scopes: string[]): string {
    const code = randomBytes(32).toString('base64url');
    this.#codes.set(sha256(code), {
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      resource: pending.resource,
      scopes,
      subject: OWNER,
      expiresAt: this.#now + CODE_TTL_MS,
      replayed: false,
      issued: { jtis: [] },
    });
    return appendParams(pending.redirectUri, { code, state: pending.state, iss: pending.issuer });
  }

  #expirePending(): void {
    const now = this.#now;
    for (const [id, pending] of this.#pending) if (now - pending.createdAt > PENDING_TTL_MS) this.#pending.delete(id);
    for (const [id, expiresAt] of this.#decidedUnlisted) if (now > expiresAt) this.#decidedUnlisted.delete(id);
    for (const [hash, code] of this.#codes) if (now > code.expiresAt + 10 * CODE_TTL_MS) this.#codes.delete(hash);
  }

  // --- token endpoint -----------------------------------------------------------------------------

  async token(form: Record<string, string | undefined>, authorization: string | undefined): Promise<TokenResponse> {
    const client = await this.#authenticateClient(form, authorization);
    switch (form.grant_type) {
      case 'authorization_code':
        return this.#exchangeCode(client, form);
      case 'refresh_token':
        return this.#refresh(client, form);
      default:
        throw new OAuthError('unsupported_grant_type', `grant_type ${form.grant_type ?? '(missing)'} is not supported`);
    }
  }

  /** RFC 6749 §2.3 client authentication: Basic, POST body, or none for public clients. */
  async #authenticateClient(
    form: Record<string, string | undefined>,
    authorization: string | undefined,
  ): Promise<ClientRecord> {
    let clientId = form.client_id;
    let secret = form.client_secret;
    // RFC 7235 §2.1: the scheme name is case-insensitive.
    if (authorization && /^basic /i.test(authorization)) {
      const basic = parseBasic(authorization.slice(6).trim());
      // RFC 6749 §5.2: failed client authentication is invalid_client (401), whatever the cause.
      if (!basic) throw new OAuthError('invalid_client', 'Malformed Basic credentials');
      ({ clientId, secret } = basic);
    }
    const client = clientId ? await this.#client(clientId) : undefined;
    if (!client) throw new OAuthError('invalid_client', 'Unknown client');
    if (client.clientSecretHash) {
      if (!secret || !safeEqual(sha256(secret), client.clientSecretHash)) {
        throw new OAuthError('invalid_client', 'Client authentication failed');
      }
    }
    return client;
  }

  async #exchangeCode(client: ClientRecord, form: Record<string, string | undefined>): Promise<TokenResponse> {
    const code = form.code ? this.#codes.get(sha256(form.code)) : undefined;
    if (!code) throw new OAuthError('invalid_grant', 'Unknown or expired authorization code');
    if (code.exchange) {
      // RFC 6749 §4.1.2: a code presented twice has leaked, and the server revokes what it issued.
      // The first exchange may still be under way: wait for it, so what it issues is known here,
      // and it sees the replay and hands its tokens to nobody.
      code.replayed = true;
      this.#options.logger.warn('authorization code presented again; revoking what it issued', {
        clientId: code.clientId,
      });
      await code.exchange.catch(() => undefined);
      await this.#revokeIssued(code);
      throw new OAuthError('invalid_grant', 'Authorization code already used; tokens issued from it are revoked');
    }
    if (this.#now > code.expiresAt) throw new OAuthError('invalid_grant', 'Authorization code expired');
    if (code.clientId !== client.clientId)
      throw new OAuthError('invalid_grant', 'Authorization code was issued to another client');
    if (form.redirect_uri !== undefined && form.redirect_uri !== code.redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const verifier = form.code_verifier;
    if (!verifier || !VERIFIER_PATTERN.test(verifier))
      throw new OAuthError('invalid_grant', 'code_verifier is missing or malformed');
    if (!safeEqual(sha256(verifier), code.codeChallenge))
      throw new OAuthError('invalid_grant', 'PKCE verification failed');
    if (form.resource !== undefined && stripSlash(form.resource) !== stripSlash(code.resource)) {
      throw new OAuthError('invalid_target', 'resource does not match the authorization request');
    }
    // No await from the lookup above to here: two presentations cannot both pass the check.
    const exchange = this.#issueTokens(client.clientId, code.subject, code.scopes, code.resource, undefined).then(
      (issued) => {
        code.issued = { familyId: issued.familyId, jtis: [issued.jti] };
        return issued.response;
      },
    );
    code.exchange = exchange;
    let response: TokenResponse;
    try {
      response = await exchange;
    } catch (error) {
      // Nothing was issued (the grant could not be saved): the client may retry with the same
      // code, unless it was presented again meanwhile.
      if (!code.replayed) delete code.exchange;
      throw error;
    }
    if (code.replayed) {
      await this.#revokeIssued(code);
      throw new OAuthError('invalid_grant', 'Authorization code already used; tokens issued from it are revoked');
    }
    return response;
  }

  /**
   * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): each refresh token works once. Presented again
   * within the grace window it gets the same answer as the first time; after it, or once a later
   * rotation replaced it, its return means two parties hold the grant, and the grant ends.
   */
  async #refresh(client: ClientRecord, form: Record<string, string | undefined>): Promise<TokenResponse> {
    const token = form.refresh_token ?? '';
    const familyId = token.split('.')[0] ?? '';
    const family = this.#options.store.state.refreshFamilies[familyId];
    if (!family || family.revokedAt !== undefined)
      throw new OAuthError('invalid_grant', 'Unknown or revoked refresh token');
    if (family.clientId !== client.clientId)
      throw new OAuthError('invalid_grant', 'Refresh token was issued to another client');
    const now = this.#now;
    if (now > family.expiresAt) throw new OAuthError('invalid_grant', 'Refresh token expired');
    const hash = sha256(token);
    // A retry, or a refresh racing this token's rotation: the same tokens, not a second chain.
    const earlier = this.#refreshGrace.find(familyId, hash, now);
    if (earlier) {
      this.#options.logger.debug('refresh token presented again during its rotation; the same tokens are sent', {
        clientId: client.clientId,
      });
      const { response, accessExpiresAt } = await earlier;
      return { ...response, expires_in: Math.max(0, Math.floor((accessExpiresAt - this.#now) / 1000)) };
    }
    if (!safeEqual(hash, family.currentHash)) {
      const justRotated =
        family.previousHash !== undefined &&
        safeEqual(hash, family.previousHash) &&
        family.rotatedAt !== undefined &&
        now - family.rotatedAt <= this.#options.refreshGraceMs;
      if (justRotated) {
        // Rotated within the window, but its answer is gone (the gateway restarted): nothing to
        // resend, and a new pair would fork the grant. The client holding the new token goes on.
        throw new OAuthError('invalid_grant', 'Refresh token was just rotated; use the new one');
      }
      // Reuse of a rotated token: someone else may hold it. End the family, access tokens included.
      await this.#revokeFamilies([familyId], []);
      this.#options.logger.warn('refresh token reuse detected; grant revoked', { clientId: client.clientId });
      throw new OAuthError('invalid_grant', 'Refresh token was already used; the grant is revoked');
    }
    let scopes = family.scopes;
    if (form.scope !== undefined) {
      const asked = form.scope.split(' ').filter(Boolean);
      if (asked.some((s) => !family.scopes.includes(s)))
        throw new OAuthError('invalid_scope', 'Requested scope exceeds the grant');
      scopes = asked;
    }
    // No await since the lookup above: a concurrent refresh with this token finds this rotation.
    const rotation = this.#issueTokens(client.clientId, family.subject, scopes, family.resource, family).then(
      (issued) => ({ response: issued.response, accessExpiresAt: issued.accessExpiresAt }),
    );
    return (await this.#refreshGrace.start(familyId, hash, now, rotation)).response;
  }

  async #issueTokens(
    clientId: string,
    subject: string,
    scopes: string[],
    resource: string,
    family: RefreshFamily | undefined,
  ): Promise<{ response: TokenResponse; familyId: string; jti: string; accessExpiresAt: number }> {
    const now = this.#now;
    const issuer = this.#issuerFor(resource);
    const access = await issueAccessToken(this.#options.keys, issuer, this.#options.clock, {
      subject,
      clientId,
      scopes,
      resource,
      ttlSeconds: this.#options.accessTokenTtlSeconds,
    });
    const familyId = family?.id ?? randomUUID();
    const refresh = `${familyId}.${randomBytes(32).toString('base64url')}`;
    const issuedAccess = { jti: access.jti, expiresAt: access.expiresAt };
    await this.#options.store.update((state) => {
      const existing = state.refreshFamilies[familyId];
      // Revoked while this rotation was being signed (a replayed code, the owner): it issues nothing.
      if (existing?.revokedAt !== undefined) throw new OAuthError('invalid_grant', 'Unknown or revoked refresh token');
      if (existing) {
        existing.previousHash = existing.currentHash;
        existing.currentHash = sha256(refresh);
        existing.rotatedAt = now;
        existing.lastUsedAt = now;
        existing.accessTokens = [...(existing.accessTokens ?? []).filter((t) => t.expiresAt > now), issuedAccess];
      } else {
        state.refreshFamilies[familyId] = {
          id: familyId,
          clientId,
          subject,
          scopes: family?.scopes ?? scopes,
          resource,
          currentHash: sha256(refresh),
          accessTokens: [issuedAccess],
          createdAt: now,
          lastUsedAt: now,
          expiresAt: now + this.#options.refreshTokenTtlSeconds * 1000,
        };
      }
      const client = state.clients[clientId];
      if (client) client.lastUsedAt = now;
    });
    return {
      familyId,
      jti: access.jti,
      accessExpiresAt: access.expiresAt,
      response: {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: this.#options.accessTokenTtlSeconds,
        refresh_token: refresh,
        scope: scopes.join(' '),
      },
    };
  }

  #issuerFor(resource: string): string {
    const match = this.#options.origins().find((o) => stripSlash(o.resource) === stripSlash(resource));
    return match?.issuer ?? new URL(resource).origin;
  }

  /** Everything a code was exchanged for: its refresh family with every access token issued in it. */
  async #revokeIssued(code: IssuedCode): Promise<void> {
    await this.#revokeFamilies(code.issued.familyId ? [code.issued.familyId] : [], code.issued.jtis);
  }

  /**
   * Ends refresh families and the access tokens issued in them that have not expired, plus the
   * given access token ids (expiring with the access token lifetime), in one write.
   */
  async #revokeFamilies(familyIds: readonly string[], jtis: readonly string[]): Promise<void> {
    const now = this.#now;
    for (const id of familyIds) this.#refreshGrace.forget(id);
    await this.#options.store.update((state) => {
      for (const id of familyIds) {
        const family = state.refreshFamilies[id];
        if (!family) continue;
        family.revokedAt ??= now;
        for (const access of family.accessTokens ?? []) {
          if (access.expiresAt > now) state.revokedJtis[access.jti] = access.expiresAt;
        }
      }
      for (const jti of jtis) state.revokedJtis[jti] ??= now + this.#options.accessTokenTtlSeconds * 1000;
    });
  }

  // --- RFC 7009 revocation --------------------------------------------------------------------------

  async revoke(form: Record<string, string | undefined>, authorization: string | undefined): Promise<void> {
    const client = await this.#authenticateClient(form, authorization);
    const token = form.token ?? '';
    const family = this.#options.store.state.refreshFamilies[token.split('.')[0] ?? ''];
    if (family && family.clientId === client.clientId && safeEqual(sha256(token), family.currentHash)) {
      // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
      await this.#revokeFamilies([family.id], []);
      return;
    }
    // An access token: only its own client may revoke it. Unknown tokens are not an error (§2.2).
    let claims;
    try {
      claims = await this.verify(token);
    } catch {
      return; // Invalid or foreign tokens: nothing to do.
    }
    if (claims.clientId !== client.clientId) return;
    // A revocation that could not be saved is an error, never a 200 the client would trust.
    await this.#options.store.update((state) => {
      state.revokedJtis[claims.jti] = claims.expiresAt;
    });
  }

  // --- owner operations -------------------------------------------------------------------------

  /** Registered clients with their grants, for the owner; secrets (even hashed) stay inside. */
  clients(): ClientView[] {
    const state = this.#options.store.state;
    return Object.values(state.clients)
      .filter((client) => client.source !== 'pat')
      .map((client) => {
        const view: ClientView = {
          clientId: client.clientId,
          redirectUris: client.redirectUris,
          source: client.source,
          createdAt: client.createdAt,
          scopes: state.consents[client.clientId]?.scopes ?? [],
          activeGrants: Object.values(state.refreshFamilies).filter(
            (f) => f.clientId === client.clientId && f.revokedAt === undefined,
          ).length,
        };
        if (client.clientName) view.clientName = client.clientName;
        if (client.lastUsedAt !== undefined) view.lastUsedAt = client.lastUsedAt;
        return view;
      });
  }

  /** Ends every grant of a client: refresh families revoked, consent forgotten. Access tokens expire on their own within the hour. */
  async revokeClient(clientId: string): Promise<boolean> {
    const state = this.#options.store.state;
    if (!state.clients[clientId]) return false;
    const now = this.#now;
    await this.#options.store.update((s) => {
      for (const family of Object.values(s.refreshFamilies)) {
        if (family.clientId === clientId && family.revokedAt === undefined) family.revokedAt = now;
      }
      delete s.consents[clientId];
      s.revokedClients[clientId] = now;
    });
    return true;
  }

  /** A personal access token: a long-lived access token for scripts and header-only clients. */
  async createPersonalToken(input: { name: string; scopes: string[]; ttlSeconds: number; origin: Origin }) {
    const supported = this.#options.supportedScopes();
    const unknown = input.scopes.filter((s) => !supported.includes(s) && s !== '*');
    if (unknown.length) throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(', ')}`);
    const id = `pat_${randomBytes(6).toString('hex')}`;
    const access = await issueAccessToken(this.#options.keys, input.origin.issuer, this.#options.clock, {
      subject: OWNER,
      clientId: id,
      scopes: input.scopes,
      resource: input.origin.resource,
      ttlSeconds: input.ttlSeconds,
    });
    await this.#options.store.update((state) => {
      state.personalTokens[id] = {
        id,
        name: input.name,
        scopes: input.scopes,
        createdAt: this.#now,
        expiresAt: access.expiresAt,
        jti: access.jti,
      };
    });
    return { id, token: access.token, expiresAt: access.expiresAt };
  }

  personalTokens() {
    return Object.values(this.#options.store.state.personalTokens);
  }

  async revokePersonalToken(id: string): Promise<boolean> {
    const pat = this.#options.store.state.personalTokens[id];
    if (!pat) return false;
    const now = this.#now;
    await this.#options.store.update((state) => {
      state.personalTokens[id]!.revokedAt = now;
      state.revokedJtis[pat.jti] = pat.expiresAt;
    });
    return true;
  }
}
