import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { createMemorySecretStore, type SecretStore } from '../store/secrets.js';

/**
 * The id of the key that seals the OAuth signing keys, in the secret store (safeStorage in the
 * desktop app, the 0600 key file headless). A backend name cannot contain a colon, so no backend
 * secret can take this id, and backends cannot be handed it (see `backendSecretStore`).
 */
export const SIGNING_KEY_SEAL_ID = 'cortex:oauth-signing-key-seal';

/** Seals and unseals private signing keys; the sealed form is what the keys file holds. */
export interface KeySealer {
  seal(privateJwk: JWK, kid: string): Promise<string>;
  /** Throws KeyUnsealError when this sealer cannot open it (its sealing key is gone or another). */
  unseal(sealed: string, kid: string): Promise<JWK>;
}

/** The sealed key cannot be opened with the sealing key there is (or there is none any more). */
export class KeyUnsealError extends Error {
  override readonly name = 'KeyUnsealError';
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under a random key kept in the secret store, created on the first seal. The key id
 * is the associated data, so a sealed key copied onto another key's entry does not open. Only one
 * secret is stored however often keys rotate, and the keys file stays the one record of the keys:
 * a rotation is a single write of that file.
 */
export function createKeySealer(secrets: SecretStore): KeySealer {
  // Loads (or, for a seal, creates) the sealing key one call at a time: two first seals at once
  // must not each create a key, the second overwriting the one the first sealed with.
  let chain: Promise<unknown> = Promise.resolve();
  let known: Buffer | undefined;
  const load = (create: boolean): Promise<Buffer | undefined> => {
    const run = chain.then(async () => {
      if (known) return known;
      const stored = await secrets.get(SIGNING_KEY_SEAL_ID);
      const key = stored === undefined ? undefined : Buffer.from(stored, 'base64');
      if (key?.length === KEY_BYTES) return (known = key);
      if (!create) return undefined;
      // None yet, or a damaged one (which opens nothing): a new key.
      const fresh = randomBytes(KEY_BYTES);
      await secrets.set(SIGNING_KEY_SEAL_ID, fresh.toString('base64'));
      return (known = fresh);
    });
    // A failure (an unreadable store, a full disk) is not remembered: the next call tries again.
    chain = run.catch(() => {});
    return run;
  };
  return {
    async seal(privateJwk, kid) {
      const key = (await load(true))!;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(kid, 'utf8'));
      const data = Buffer.concat([cipher.update(JSON.stringify(privateJwk), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
    },
    async unseal(sealed, kid) {
      const key = await load(false);
      if (key?.length !== KEY_BYTES)
        throw new KeyUnsealError('the key that sealed the signing keys is not in the secret store');
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length <= IV_BYTES + TAG_BYTES) throw new KeyUnsealError('the sealed signing key is too short');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(kid, 'utf8'));
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as JWK;
      } catch (error) {
        throw new KeyUnsealError('the signing key was sealed with another key, or changed since', { cause: error });
      }
    },
  };
}

/** For gateways without a data folder (tests): sealed under a key that lives as long as the process. */
export const createMemoryKeySealer = (): KeySealer => createKeySealer(createMemorySecretStore());

/**
 * The secret store as backends and config edits see it: without the gateway's own sealing key. A
 * config file names secrets by id (`${secret:…}`), and a hand-written reference to this one must
 * not hand it to a backend's environment.
 */
export function backendSecretStore(secrets: SecretStore): SecretStore {
  const own = (id: string) => id === SIGNING_KEY_SEAL_ID;
  return {
    get: async (id) => (own(id) ? undefined : secrets.get(id)),
    set: async (id, value) => {
      if (own(id)) throw new Error(`${id} is reserved for the gateway`);
      await secrets.set(id, value);
    },
    delete: async (id) => (own(id) ? false : secrets.delete(id)),
    ids: async () => (await secrets.ids()).filter((id) => !own(id)),
  };
}
