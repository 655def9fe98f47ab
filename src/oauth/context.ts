import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ClientMetadataFetcher } from './client-metadata.js';
import type { ScopeGroup } from './consent-page.js';
import type { KeyRing } from './keys.js';
import type { OAuthStore } from './store.js';
import type { PendingConsentView } from './views.js';

/**
 * What every endpoint of the authorization server is given: the options, defaults filled in
 * (`server.ts`). The endpoints keep their own state; this holds what they share.
 */

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

/** The options with every default filled in. */
export type ServerContext = Required<AuthorizationServerOptions>;

/** What the browser steps (authorize, consent, wait) answer; `src/http/oauth-routes.ts` sends it. */
export type AuthorizeOutcome =
  | { kind: 'page'; status: number; html: string }
  | { kind: 'error-page'; status: number; title: string; message: string; code?: string }
  | { kind: 'redirect'; location: string };

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/** The subject of every grant: this gateway has one user, its owner. */
export const OWNER = 'owner';

export const errorPage = (title: string, message: string, status = 400, code?: string): AuthorizeOutcome => ({
  kind: 'error-page',
  status,
  title,
  message,
  ...(code ? { code } : {}),
});

export const expiredPage = (): AuthorizeOutcome =>
  errorPage('Request expired', 'Start the sign-in again from your application.', 400, 'expired');
