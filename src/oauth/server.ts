import { ClientMetadataFetcher } from './client-metadata.js';
import { CodeBook } from './codes.js';
import type {
  AuthorizationServerOptions,
  AuthorizeOutcome,
  ConsentPrompter,
  Origin,
  ServerContext,
  TokenResponse,
} from './context.js';
import { ApprovalQueue } from './endpoints/approvals.js';
import { createAuthorizeEndpoint, type AuthorizeEndpoint } from './endpoints/authorize.js';
import { createConsentEndpoints, type ConsentEndpoints } from './endpoints/consent.js';
import { listClients, revokeClient } from './endpoints/listings.js';
import { authorizationServerMetadata, protectedResourceMetadata } from './endpoints/metadata.js';
import { createPersonalTokens, type PersonalTokenInput, type PersonalTokens } from './endpoints/personal-tokens.js';
import { createRegisterEndpoint, type RegisterEndpoint } from './endpoints/register.js';
import { createRevokeEndpoint, type RevokeEndpoint } from './endpoints/revoke.js';
import { createTokenEndpoint, type TokenEndpoint } from './endpoints/token.js';
import { UnlistedRequests } from './endpoints/unlisted.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { createTokenIssuer } from './grants/issuer.js';
import type { GrantRegistry } from './grants/registry.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import type { Requester } from './requester.js';
import { createTokenVerifier, type TokenVerifier } from './tokens.js';
import type { ClientView, PendingConsentView } from './views.js';
import type { Params } from './wire.js';

export type {
  AuthorizationServerOptions,
  AuthorizeOutcome,
  ConsentPrompter,
  Origin,
  TokenResponse,
} from './context.js';
export type { Requester } from './requester.js';
export type { ClientView, PendingConsentView } from './views.js';

const BROWSER_PROMPTER: ConsentPrompter = { mode: () => 'page' };

/**
 * The authorization server, free of HTTP framework concerns: each endpoint is a method taking the
 * parsed request and returning what to send, or throwing an OAuthError. It only composes: each
 * endpoint lives in `endpoints/`, built from the named checks of `checks/`; the token endpoint
 * dispatches on a registry of grant types (`grants/`). Where to add an OAuth rule: a check in
 * `checks/` with its test, listed by the endpoint or grant that runs it.
 */
export class AuthorizationServer {
  readonly verify: TokenVerifier;
  readonly #ctx: ServerContext;
  readonly #approvals: ApprovalQueue;
  readonly #unlisted = new UnlistedRequests();
  readonly #codes = new CodeBook();
  readonly #grants: GrantRegistry;
  readonly #register: RegisterEndpoint;
  readonly #authorize: AuthorizeEndpoint;
  readonly #consent: ConsentEndpoints;
  readonly #token: TokenEndpoint;
  readonly #revoke: RevokeEndpoint;
  readonly #personalTokens: PersonalTokens;

  constructor(options: AuthorizationServerOptions) {
    const ctx: ServerContext = {
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 90 * 24 * 3600,
      refreshGraceMs: 30_000,
      prompter: BROWSER_PROMPTER,
      cliCommand: 'cortex-gateway',
      clientMetadata: new ClientMetadataFetcher({ logger: options.logger, now: () => options.clock.now() }),
      ...options,
    };
    this.#ctx = ctx;
    this.verify = createTokenVerifier({
      keys: ctx.keys,
      issuers: () => ctx.origins().map((o) => o.issuer),
      resources: () => ctx.origins().map((o) => o.resource),
      clock: ctx.clock,
      isRevoked: ({ jti, clientId, issuedAt }) => {
        const state = ctx.store.state;
        const clientRevokedAt = state.revokedClients[clientId];
        return jti in state.revokedJtis || (clientRevokedAt !== undefined && issuedAt <= clientRevokedAt);
      },
    });
    const issuer = createTokenIssuer(ctx);
    this.#grants = new Map([
      ['authorization_code', authorizationCodeGrant(ctx, this.#codes, issuer)],
      ['refresh_token', refreshTokenGrant(ctx, issuer)],
    ]);
    this.#approvals = new ApprovalQueue(ctx);
    this.#register = createRegisterEndpoint(ctx, [...this.#grants.keys()]);
    this.#authorize = createAuthorizeEndpoint(ctx, this.#approvals, this.#unlisted);
    this.#consent = createConsentEndpoints(ctx, this.#approvals, this.#unlisted, this.#codes);
    this.#token = createTokenEndpoint(ctx, this.#grants);
    this.#revoke = createRevokeEndpoint(ctx, issuer, this.verify);
    this.#personalTokens = createPersonalTokens(ctx);
  }

  jwks() {
    return this.#ctx.keys.jwks();
  }

  /** A new signing key; tokens signed with the previous ones keep verifying until they expire. */
  async rotateKeys(): Promise<string> {
    await this.#ctx.keys.rotate(this.#ctx.clock.now());
    return this.#ctx.keys.signingKey.kid;
  }

  /** RFC 8414 authorization server metadata. */
  metadata(origin: Origin): Record<string, unknown> {
    return authorizationServerMetadata({
      origin,
      scopes: this.#ctx.supportedScopes(),
      grantTypes: [...this.#grants.keys()],
    });
  }

  /** RFC 9728 protected resource metadata for the MCP endpoint. */
  protectedResourceMetadata(origin: Origin): Record<string, unknown> {
    return protectedResourceMetadata(origin, this.#ctx.supportedScopes());
  }

  async register(body: unknown, origin?: Origin): Promise<Record<string, unknown>> {
    return this.#register(body, origin);
  }

  async authorize(query: Params, origin: Origin, requester: Requester = {}): Promise<AuthorizeOutcome> {
    this.#sweep();
    return this.#authorize(query, origin, requester);
  }

  /** The owner's answer on the consent page (endpoints/consent.ts). */
  async decide(form: Record<string, string | string[] | undefined>, ownerPresent: boolean): Promise<AuthorizeOutcome> {
    this.#sweep();
    return this.#consent.decide(form, ownerPresent);
  }

  /** The waiting page's poll for the owner's decision (endpoints/consent.ts). */
  async wait(query: Params): Promise<AuthorizeOutcome> {
    this.#sweep();
    return this.#consent.wait(query);
  }

  /** Requests waiting for the owner's decision, oldest first. */
  pendingConsents(): PendingConsentView[] {
    this.#sweep();
    return this.#approvals.list();
  }

  /**
   * The owner's decision in the approval list; the waiting browser picks it up on its next poll.
   * Without `scopes` the request gets its suggested scopes: read access at most.
   */
  decideAsOwner(id: string, approve: boolean, scopes?: readonly string[]): boolean {
    this.#sweep();
    return this.#approvals.decide(id, approve, scopes);
  }

  async token(form: Params, authorization: string | undefined): Promise<TokenResponse> {
    return this.#token(form, authorization);
  }

  async revoke(form: Params, authorization: string | undefined): Promise<void> {
    return this.#revoke(form, authorization);
  }

  /** Registered clients with their grants, for the owner; secrets (even hashed) stay inside. */
  clients(): ClientView[] {
    return listClients(this.#ctx);
  }

  /** Ends every grant of a client: refresh families revoked, consent forgotten. */
  async revokeClient(clientId: string): Promise<boolean> {
    return revokeClient(this.#ctx, clientId);
  }

  /** A personal access token: a long-lived access token for scripts and header-only clients. */
  async createPersonalToken(input: PersonalTokenInput) {
    return this.#personalTokens.create(input);
  }

  personalTokens() {
    return this.#personalTokens.list();
  }

  async revokePersonalToken(id: string): Promise<boolean> {
    return this.#personalTokens.revoke(id);
  }

  /** What waits in memory past its time: listed requests, decided unlisted ones, old codes. */
  #sweep(): void {
    const now = this.#ctx.clock.now();
    this.#approvals.expire();
    this.#unlisted.sweep(now);
    this.#codes.sweep(now);
  }
}
