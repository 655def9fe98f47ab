/**
 * What the authorization server shows the owner: its clients and the requests waiting for approval.
 * Owned here and re-exported by the console API's contract (src/api/contract.ts).
 */

/** A registered OAuth client, with what the owner granted it. */
export interface ClientView {
  clientId: string;
  clientName?: string;
  redirectUris: string[];
  source: 'dcr' | 'cimd' | 'pat';
  createdAt: number;
  lastUsedAt?: number;
  /**
   * What the owner grants it now (its consent): what it may use on its next request. Servers added
   * since are not in it: they stay off for the application until the owner turns them on.
   */
  scopes: string[];
  activeGrants: number;
}

/**
 * An authorization request waiting for the owner's approval, with what tells the owner whose it is:
 * the code its browser shows, and where it came from. Every field the requester could choose
 * (names, user agent) is shown as text, never trusted.
 */
export interface PendingConsentView {
  id: string;
  /**
   * The short code the requesting browser shows (device-flow style, e.g. `WDJB-MJHT`): the owner
   * approves the request whose code is the one on their own screen, not a look-alike.
   */
  userCode: string;
  clientId: string;
  clientName: string;
  /** `dcr`: registered through `/register`; `cimd`: known by its metadata document at `clientDomain`. */
  clientSource: 'dcr' | 'cimd';
  clientDomain?: string;
  /** When the client registered, or its metadata document was first fetched (epoch ms). */
  clientRegisteredAt?: number;
  redirectHost: string;
  requestedScopes: string[];
  /** What approving grants unless the owner chooses otherwise: read access at most. */
  suggestedScopes: string[];
  /** The owner approved this client before; approving keeps that grant (`suggestedScopes`). */
  returning?: true;
  /** The listener the request came in on: this machine's, or the public tunnel's. */
  listener: 'local' | 'tunnel';
  /** The origin (issuer) the request used, e.g. `http://127.0.0.1:3590` or the tunnel's URL. */
  origin: string;
  /** The requesting browser's address (through the tunnel: as its provider reports it). */
  remoteAddress?: string;
  userAgent?: string;
  createdAt: number;
}
