import { readFile, rename } from 'node:fs/promises';
import type { JWK } from 'jose';
import { writeFileAtomic, type WriteFileAtomic } from '../store/atomic.js';
import { fileSystemError } from '../store/fs-errors.js';

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
  /** The chain of updates; each settles before the next starts, and a failed one does not stop the next. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string | undefined,
    readonly writeFile: WriteFileAtomic = writeFileAtomic,
  ) {}

  static memory(): OAuthStore {
    return new OAuthStore(undefined);
  }

  /**
   * Reads the file. Missing: a fresh state. Not JSON: set aside as `<path>.corrupt-<time>` for a
   * look, and a fresh state. Unreadable (permissions, I/O): an error naming it, since starting
   * fresh would write over every client's grants.
   */
  static async open(path: string, options: { writeFile?: WriteFileAtomic } = {}): Promise<OAuthStore> {
    const store = new OAuthStore(path, options.writeFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw fileSystemError(error, path, 'read');
    }
    try {
      const parsed = JSON.parse(text) as Partial<OAuthState>;
      store.#state = { ...empty(), ...parsed, version: 1 };
    } catch {
      // Keep the unreadable file for inspection instead of overwriting what the user had.
      await rename(path, `${path}.corrupt-${Date.now()}`).catch(() => {});
    }
    return store;
  }

  get state(): Readonly<OAuthState> {
    return this.#state;
  }

  /**
   * Applies a change and persists it. Updates run one at a time, each on the state the previous
   * one left. The change is made on a copy, which becomes the state only once the file holds it:
   * a failed write (a full disk) leaves memory and file as they were, the caller gets the error
   * (`disk_full` naming the file), and the next update starts from the last written state.
   */
  update(change: (state: OAuthState) => void): Promise<void> {
    const run = this.#queue.then(async () => {
      const next = structuredClone(this.#state);
      change(next);
      if (this.path) {
        const text = JSON.stringify(next, null, 2) + '\n';
        try {
          await this.writeFile(this.path, text, 0o600);
        } catch (error) {
          throw fileSystemError(error, this.path);
        }
      }
      this.#state = next;
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}
