// Backend secrets in the desktop app: the same SecretStore port as headless, sealed by the OS
// keychain through Electron's safeStorage. Types only from electron, so Node tests reach this file
// with a fake safeStorage; main.ts passes the real one.
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import {
  createFileSecretStore,
  createKeyFileCipher,
  SECRETS_FILE_NAME,
  SECRETS_KEY_FILE_NAME,
  type Logger,
  type SecretCipher,
} from '../../src/index.js';

export type SafeStorageLike = Pick<
  SafeStorage,
  'encryptStringAsync' | 'decryptStringAsync' | 'isAsyncEncryptionAvailable' | 'getSelectedStorageBackend'
>;

export const SAFE_STORAGE_CIPHER = 'electron-safestorage';

/** The whole secrets file sealed as one string by safeStorage (Keychain, DPAPI, libsecret/kwallet). */
export function safeStorageCipher(safeStorage: SafeStorageLike): SecretCipher {
  return {
    name: SAFE_STORAGE_CIPHER,
    seal: async (plaintext) => safeStorage.encryptStringAsync(plaintext.toString('utf8')),
    unseal: async (sealed) => Buffer.from((await safeStorage.decryptStringAsync(sealed)).result, 'utf8'),
  };
}

/**
 * Whether safeStorage really protects anything here. On Linux without a keyring Chromium falls back
 * to `basic_text`, a hard-coded password: then a 0600 key file of our own is the better choice.
 */
export async function keychainUsable(safeStorage: SafeStorageLike, platform: NodeJS.Platform): Promise<boolean> {
  if (!(await safeStorage.isAsyncEncryptionAvailable())) return false;
  return platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
}

/** The desktop secret store in `userData`, loaded so a damaged file is reported at start-up. */
export async function openDesktopSecretStore(options: {
  userData: string;
  safeStorage: SafeStorageLike;
  platform: NodeJS.Platform;
  logger: Logger;
}) {
  const path = join(options.userData, SECRETS_FILE_NAME);
  // The CLI may have written the file first (same data folder): open it, reseal it on the next change.
  const keyFile = createKeyFileCipher(join(options.userData, SECRETS_KEY_FILE_NAME));
  let store;
  if (await keychainUsable(options.safeStorage, options.platform)) {
    store = createFileSecretStore({ path, cipher: safeStorageCipher(options.safeStorage), alsoOpens: [keyFile] });
  } else {
    options.logger.warn('no usable OS keychain: backend secrets are sealed with a 0600 key file in the data folder');
    store = createFileSecretStore({ path, cipher: keyFile });
  }
  await store.load();
  return store;
}
