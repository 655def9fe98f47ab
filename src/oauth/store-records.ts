import type { JWK } from 'jose';

/** What the OAuth store keeps (store.ts): one collection per record type, a file per collection. */

export interface StoredKey {
  kid: string;
  /** The private JWK sealed with the secret store (keys.ts); absent for a key kept only to verify. */
  sealedPrivateJwk?: string;
  publicJwk: JWK;
  createdAt: number;
  /** Only the newest key signs; older ones stay to verify tokens issued before a rotation. */
  active: boolean;
}

export interface ClientRecord {
  clientId: string;
  clientName?: string;
  clientUri?: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: 'none' | 'client_secret_post' | 'client_secret_basic';
  /** SHA-256 of the secret, base64url; never the secret itself. */
  clientSecretHash?: string;
  source: 'dcr' | 'cimd' | 'pat';
  createdAt: number;
  lastUsedAt?: number;
}

export interface ConsentRecord {
  clientId: string;
  scopes: string[];
  decidedAt: number;
}

export interface RefreshFamily {
  id: string;
  clientId: string;
  subject: string;
  scopes: string[];
  resource: string;
  /** Hash of the refresh token currently valid for this family. */
  currentHash: string;
  /** The token it replaced, accepted again for a short grace window (clients retry a rotation). */
  previousHash?: string;
  rotatedAt?: number;
  /**
   * The access tokens issued in this family that may not have expired yet: revoking the family
   * (a replayed code or refresh token) revokes them too (RFC 6749 §4.1.2, §10.4).
   */
  accessTokens?: Array<{ jti: string; expiresAt: number }>;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface PersonalToken {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  /** The token's own id; the token itself is shown once and never stored. */
  jti: string;
  revokedAt?: number;
}

export interface OAuthState {
  keys: StoredKey[];
  clients: Record<string, ClientRecord>;
  consents: Record<string, ConsentRecord>;
  refreshFamilies: Record<string, RefreshFamily>;
  personalTokens: Record<string, PersonalToken>;
  /** Access token ids revoked before their expiry (by /revoke or a grant revocation), with expiry. */
  revokedJtis: Record<string, number>;
  /** Clients whose grants the owner revoked, with the time: their earlier access tokens stop working. */
  revokedClients: Record<string, number>;
}
