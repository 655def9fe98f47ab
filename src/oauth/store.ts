import { readFile, rename } from 'node:fs/promises';
import type { JWK } from 'jose';
import { writeFileAtomic } from '../store/atomic.js';

export interface StoredKey {
  kid: string;
  privateJwk: JWK;
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
  version: 1;
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

const empty = (): OAuthState => ({
  version: 1,
  keys: [],
  clients: {},
  consents: {},
  refreshFamilies: {},
  personalTokens: {},
  revokedJtis: {},
  revokedClients: {},
});

/**
 * Clients, consents, refresh families, signing keys and personal tokens, kept in one JSON document
 * (mode 0600) and written atomically after every change: a client authorized yesterday refreshes
 * today without a new consent. Without a path it lives in memory (tests).
 */
export class OAuthStore {
  #state: OAuthState = empty();
  #writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string | undefined) {}

  static memory(): OAuthStore {
    return new OAuthStore(undefined);
  }

  static async open(path: string): Promise<OAuthStore> {
    const store = new OAuthStore(path);
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<OAuthState>;
      store.#state = { ...empty(), ...parsed, version: 1 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Keep the unreadable file for inspection instead of overwriting what the user had.
        await rename(path, `${path}.corrupt-${Date.now()}`).catch(() => {});
      }
    }
    return store;
  }

  get state(): Readonly<OAuthState> {
    return this.#state;
  }

  /** Applies a change and persists it; writes are serialized so the file always holds a whole state. */
  async update(change: (state: OAuthState) => void): Promise<void> {
    change(this.#state);
    const path = this.path;
    if (!path) return;
    const snapshot = JSON.stringify(this.#state, null, 2) + '\n';
    this.#writing = this.#writing.then(() => writeFileAtomic(path, snapshot, 0o600));
    await this.#writing;
  }
}
