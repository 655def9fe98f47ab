import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { OAuthStore, StoredKey } from './store.js';

export const SIGNING_ALG = 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** ES256 signing keys: persisted, the newest signs, older ones keep verifying until their tokens expire. */
export class KeyRing {
  #active: SigningKey | undefined;
  #public = new Map<string, CryptoKey>();

  private constructor(private readonly store: OAuthStore) {}

  static async open(store: OAuthStore): Promise<KeyRing> {
    const ring = new KeyRing(store);
    if (!store.state.keys.some((k) => k.active)) await ring.rotate();
    else await ring.#load();
    return ring;
  }

  async #load(): Promise<void> {
    this.#public.clear();
    for (const key of this.store.state.keys) {
      this.#public.set(key.kid, (await importJWK(key.publicJwk, SIGNING_ALG)) as CryptoKey);
      if (key.active)
        this.#active = { kid: key.kid, privateKey: (await importJWK(key.privateJwk, SIGNING_ALG)) as CryptoKey };
    }
  }

  /** Makes a new key the signing key; the previous one stays published for verification. */
  async rotate(now = Date.now()): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = randomUUID();
    const stored: StoredKey = {
      kid,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG },
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' },
      createdAt: now,
      active: true,
    };
    await this.store.update((state) => {
      for (const key of state.keys) key.active = false;
      // Keep the last few retired keys only: tokens are short-lived.
      state.keys = [stored, ...state.keys].slice(0, 3);
    });
    await this.#load();
  }

  get signingKey(): SigningKey {
    if (!this.#active) throw new Error('no active signing key');
    return this.#active;
  }

  publicKey(kid: string | undefined): CryptoKey | undefined {
    return kid ? this.#public.get(kid) : undefined;
  }

  jwks(): JSONWebKeySet {
    return { keys: this.store.state.keys.map((k) => k.publicJwk as JWK) };
  }
}
