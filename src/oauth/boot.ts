import { join } from 'node:path';
import type { WriteFileAtomic } from '../store/atomic.js';
import type { SecretStore } from '../store/secrets.js';
import { describeError } from '../shared/errors.js';
import { sweepOAuthState } from './client-limits.js';
import type { AuthorizationServerOptions } from './context.js';
import { createKeySealer } from './key-sealing.js';
import { KeyRing } from './keys.js';
import { AuthorizationServer } from './server.js';
import { OAuthStore } from './store.js';

/** The OAuth store's folder in the data folder: a file per collection and a manifest (src/oauth/store.ts). */
export const OAUTH_DIR = 'oauth';

export interface OpenAuthorizationOptions extends Omit<AuthorizationServerOptions, 'store' | 'keys'> {
  /** The data folder; without one the state lives in memory (tests). */
  dataDir?: string | undefined;
  /** The whole secret store: the key that seals the signing keys lives there. */
  secrets: SecretStore;
  writeFile?: WriteFileAtomic | undefined;
  /** Runs once the store is open and swept, before the server is made (grants, sessions…). */
  opened?: (store: OAuthStore) => Promise<void>;
}

/**
 * The gateway's authorization server on its state: the store opened (moving in the single file of
 * earlier versions), the signing keys loaded or made, expired state swept.
 */
export async function openAuthorization(
  options: OpenAuthorizationOptions,
): Promise<{ store: OAuthStore; server: AuthorizationServer }> {
  const { dataDir, secrets, writeFile, opened, ...serverOptions } = options;
  const { clock, logger } = options;
  // The signing keys' private parts are sealed with the secret store, never written in clear.
  const sealer = createKeySealer(secrets);
  const store = dataDir
    ? await OAuthStore.open(join(dataDir, OAUTH_DIR), {
        ...(writeFile ? { writeFile } : {}),
        // Earlier versions kept everything in one file: moved in on the first start.
        legacyFile: join(dataDir, 'oauth.json'),
        sealPrivateKey: (jwk, kid) => sealer.seal(jwk, kid),
        now: () => clock.now(),
      })
    : OAuthStore.memory();
  const keys = await KeyRing.open(store, { sealer, now: clock.now() });
  // Clients unused past their time, dead grants and expired revocations go (also on each registration).
  await store
    .update((state) => void sweepOAuthState(state, clock.now()))
    .catch((error: unknown) => logger.warn('could not remove expired OAuth clients', { error: describeError(error) }));
  await opened?.(store);
  return { store, server: new AuthorizationServer({ ...serverOptions, store, keys }) };
}
