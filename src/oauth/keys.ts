import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { createMemoryKeySealer, KeyUnsealError, type KeySealer } from './key-sealing.js';
import type { OAuthStore, StoredKey } from './store.js';

export const SIGNING_ALG = 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface KeyRingOptions {
  /** Seals the private keys the store holds. Default: a key that lives as long as the process (tests). */
  sealer?: KeySealer;
  now?: number;
}

/**
 * ES256 signing keys: persisted, the newest signs, older ones keep verifying until their tokens
 * expire. The store holds each private key sealed (key-sealing.ts), never in clear; the public
 * keys are published anyway and stay readable.
 */
export class KeyRing {
  #active: SigningKey | undefined;
  #public = new Map<string, CryptoKey>();

  private constructor(
    private readonly store: OAuthStore,
    private readonly sealer: KeySealer,
  ) {}

  /**
   * Loads the keys. When the active key cannot be unsealed (its sealing key left the secret store,
   * say the owner moved the secrets file away), a new key takes over; the old one stays published,
   * so tokens it signed verify until they expire. A secret store that cannot be read at all is an
   * error: a new key would only hide that the store is broken.
   */
  static async open(store: OAuthStore, options: KeyRingOptions = {}): Promise<KeyRing> {
    const ring = new KeyRing(store, options.sealer ?? createMemoryKeySealer());
    await ring.#load();
    if (!ring.#active) await ring.rotate(options.now);
    return ring;
  }

  async #load(): Promise<void> {
    this.#public.clear();
    this.#active = undefined;
    for (const key of this.store.state.keys) {
      this.#public.set(key.kid, (await importJWK(key.publicJwk, SIGNING_ALG)) as CryptoKey);
      if (key.active && key.sealedPrivateJwk !== undefined) {
        let privateJwk: JWK;
        try {
          privateJwk = await this.sealer.unseal(key.sealedPrivateJwk, key.kid);
        } catch (error) {
          if (error instanceof KeyUnsealError) continue;
          throw error;
        }
        this.#active = { kid: key.kid, privateKey: (await importJWK(privateJwk, SIGNING_ALG)) as CryptoKey };
      }
    }
  }

  /** Makes a new key the signing key; the previous one stays published for verification. */
  async rotate(now = Date.now()): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = randomUUID();
    const stored: StoredKey = {
      kid,
      sealedPrivateJwk: await this.sealer.seal({ ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG }, kid),
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' },
      createdAt: now,
      active: true,
    };
    await this.store.update((state) => {
      // Retired keys only verify: their sealed private parts have no use any more.
      state.keys = state.keys.map(({ sealedPrivateJwk: _sealed, ...key }) => ({ ...key, active: false }));
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
