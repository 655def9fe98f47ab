import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyFileSecretStore, SECRETS_FILE_NAME, silentLogger } from '../../src/index.js';
import { keychainUsable, openDesktopSecretStore, SAFE_STORAGE_CIPHER, type SafeStorageLike } from './secrets.js';

/** A stand-in for the OS keychain: real encryption with a key held in memory, like safeStorage's. */
function fakeSafeStorage(options: { available?: boolean; backend?: string } = {}): SafeStorageLike {
  const key = randomBytes(32);
  return {
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    getSelectedStorageBackend: () => (options.backend ?? 'gnome_libsecret') as 'gnome_libsecret',
    encryptStringAsync: async (text) => {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', key, iv);
      return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final()]);
    },
    decryptStringAsync: async (sealed) => {
      const decipher = createDecipheriv('aes-256-cbc', key, sealed.subarray(0, 16));
      const result = Buffer.concat([decipher.update(sealed.subarray(16)), decipher.final()]).toString('utf8');
      return { result, shouldReEncrypt: false };
    },
  };
}

describe('desktop secret store', () => {
  let userData: string;
  beforeEach(async () => {
    userData = await mkdtemp(join(tmpdir(), 'cortex-desktop-'));
  });
  afterEach(async () => {
    await rm(userData, { recursive: true, force: true });
  });

  it('seals with safeStorage and reads back what it wrote', async () => {
    const safeStorage = fakeSafeStorage();
    const store = await openDesktopSecretStore({ userData, safeStorage, platform: 'darwin', logger: silentLogger });
    await store.set('gh.env.TOKEN', 'ghp_desktop_value');
    const again = await openDesktopSecretStore({ userData, safeStorage, platform: 'darwin', logger: silentLogger });
    expect(await again.get('gh.env.TOKEN')).toBe('ghp_desktop_value');
    const file = await readFile(join(userData, SECRETS_FILE_NAME), 'utf8');
    expect(JSON.parse(file).cipher).toBe(SAFE_STORAGE_CIPHER);
    expect(file).not.toContain('ghp_desktop_value');
  });

  it("does not trust Linux's basic_text fallback", async () => {
    expect(await keychainUsable(fakeSafeStorage({ backend: 'basic_text' }), 'linux')).toBe(false);
    expect(await keychainUsable(fakeSafeStorage({ backend: 'basic_text' }), 'win32')).toBe(true);
    expect(await keychainUsable(fakeSafeStorage({ available: false }), 'darwin')).toBe(false);
  });

  it('falls back to the key file when no keychain is usable, and says so', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    const safeStorage = fakeSafeStorage({ available: false });
    const store = await openDesktopSecretStore({ userData, safeStorage, platform: 'linux', logger });
    await store.set('a', 'b');
    expect(JSON.parse(await readFile(join(userData, SECRETS_FILE_NAME), 'utf8')).cipher).toBe('aes-256-gcm+keyfile');
    expect(warnings).toEqual([expect.stringMatching(/no usable OS keychain/)]);
  });

  it('opens a file the headless CLI wrote, and reseals it with the keychain on the next change', async () => {
    await createKeyFileSecretStore(userData).set('cli.env.TOKEN', 'from_the_cli');
    const safeStorage = fakeSafeStorage();
    const store = await openDesktopSecretStore({ userData, safeStorage, platform: 'darwin', logger: silentLogger });
    expect(await store.get('cli.env.TOKEN')).toBe('from_the_cli');
    await store.set('app.env.TOKEN', 'from_the_app');
    expect(JSON.parse(await readFile(join(userData, SECRETS_FILE_NAME), 'utf8')).cipher).toBe(SAFE_STORAGE_CIPHER);
    const again = await openDesktopSecretStore({ userData, safeStorage, platform: 'darwin', logger: silentLogger });
    expect(await again.get('cli.env.TOKEN')).toBe('from_the_cli');
  });

  it('refuses a file the keychain cannot decrypt, naming the file', async () => {
    const first = await openDesktopSecretStore({
      userData,
      safeStorage: fakeSafeStorage(),
      platform: 'darwin',
      logger: silentLogger,
    });
    await first.set('a', 'b');
    // Another keychain key (a different user account, a reset keychain).
    await expect(
      openDesktopSecretStore({ userData, safeStorage: fakeSafeStorage(), platform: 'darwin', logger: silentLogger }),
    ).rejects.toThrow(`${join(userData, SECRETS_FILE_NAME)}: cannot be decrypted`);
  });
});
