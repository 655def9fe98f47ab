import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISK_KINDS, testDisk } from '../../test/helpers/disk.js';
import { isGatewayError } from '../shared/errors.js';
import {
  createFileSecretStore,
  createKeyFileCipher,
  createKeyFileSecretStore,
  openKeyFileSecretStore,
  SECRETS_FILE_NAME,
  SECRETS_KEY_FILE_NAME,
  type SecretCipher,
} from './secrets.js';

const TOKEN = 'ghp_supersecretvalue123';

describe('key-file secret store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-secrets-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps values across instances (a restart)', async () => {
    await createKeyFileSecretStore(dir).set('github.env.TOKEN', TOKEN);
    expect(await (await openKeyFileSecretStore(dir)).get('github.env.TOKEN')).toBe(TOKEN);
  });

  it.skipIf(process.platform === 'win32')('creates the key file readable by the owner only (0600)', async () => {
    await createKeyFileSecretStore(dir).set('a', 'b');
    expect((await stat(join(dir, SECRETS_KEY_FILE_NAME))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, SECRETS_FILE_NAME))).mode & 0o777).toBe(0o600);
  });

  it('never writes the plaintext, nor the ids, to the secrets file', async () => {
    await createKeyFileSecretStore(dir).set('github.env.GITHUB_TOKEN', TOKEN);
    const text = await readFile(join(dir, SECRETS_FILE_NAME), 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('GITHUB_TOKEN');
    expect(text).not.toContain(Buffer.from(TOKEN).toString('base64').slice(0, 12));
  });

  it('creates no key file until there is a secret to keep', async () => {
    const store = await openKeyFileSecretStore(dir);
    expect(await store.get('x')).toBeUndefined();
    await expect(stat(join(dir, SECRETS_KEY_FILE_NAME))).rejects.toThrow(/ENOENT/);
  });

  it('deletes a value and says whether there was one', async () => {
    const store = createKeyFileSecretStore(dir);
    await store.set('a', '1');
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await (await openKeyFileSecretStore(dir)).ids()).toEqual([]);
  });

  it('keeps every value when writes race', async () => {
    const store = createKeyFileSecretStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    expect((await (await openKeyFileSecretStore(dir)).ids()).sort()).toHaveLength(20);
  });

  it('sees changes another process made to the file, and does not overwrite them', async () => {
    const mine = createKeyFileSecretStore(dir);
    await mine.set('a', '1');
    await createKeyFileSecretStore(dir).set('b', '2');
    expect(await mine.get('b')).toBe('2');
    await mine.set('c', '3');
    expect((await (await openKeyFileSecretStore(dir)).ids()).sort()).toEqual(['a', 'b', 'c']);
  });

  it('refuses a tampered file with an error naming it', async () => {
    await createKeyFileSecretStore(dir).set('a', TOKEN);
    const path = join(dir, SECRETS_FILE_NAME);
    const file = JSON.parse(await readFile(path, 'utf8')) as { data: string };
    const bytes = Buffer.from(file.data, 'base64');
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(path, JSON.stringify({ ...file, data: bytes.toString('base64') }));
    const error = await openKeyFileSecretStore(dir).catch((e: unknown) => e);
    expect(isGatewayError(error, 'secrets_unreadable')).toBe(true);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/cannot be decrypted/);
  });

  it('refuses the file when it was sealed with another key', async () => {
    await createKeyFileSecretStore(dir).set('a', TOKEN);
    await writeFile(join(dir, SECRETS_KEY_FILE_NAME), Buffer.alloc(32, 7).toString('base64'));
    await expect(openKeyFileSecretStore(dir)).rejects.toThrow(/cannot be decrypted/);
  });

  it('says the key file is missing when only it is gone', async () => {
    await createKeyFileSecretStore(dir).set('a', TOKEN);
    await rm(join(dir, SECRETS_KEY_FILE_NAME));
    await expect(openKeyFileSecretStore(dir)).rejects.toThrow(/secrets\.key: the key file is missing/);
  });

  it('refuses a file that is not JSON, and does not overwrite it', async () => {
    const path = join(dir, SECRETS_FILE_NAME);
    await writeFile(path, 'garbage');
    const store = createKeyFileSecretStore(dir);
    await expect(store.set('a', 'b')).rejects.toThrow(/not valid JSON/);
    expect(await readFile(path, 'utf8')).toBe('garbage');
  });

  it('refuses a file sealed by another cipher, naming both', async () => {
    const other: SecretCipher = {
      name: 'electron-safestorage',
      seal: async (b) => Buffer.from(b),
      unseal: async (b) => Buffer.from(b),
    };
    const path = join(dir, SECRETS_FILE_NAME);
    await createFileSecretStore({ path, cipher: other }).set('a', 'b');
    const store = createFileSecretStore({ path, cipher: createKeyFileCipher(join(dir, SECRETS_KEY_FILE_NAME)) });
    await expect(store.load()).rejects.toThrow(/sealed with "electron-safestorage"/);
  });
});

describe.each(DISK_KINDS)('key-file secret store on a full disk (%s)', (kind) => {
  it('a first secret write leaves no key file behind, and secrets work once there is space (also reopened)', async () => {
    await using disk = await testDisk(kind);
    const options = { writeFile: disk.writeFile };
    const store = createKeyFileSecretStore(disk.dir, options);
    await disk.fill();
    const error = await store.set('github.env.TOKEN', TOKEN).catch((e: unknown) => e);
    expect(isGatewayError(error, 'disk_full')).toBe(true);
    expect((error as Error).message).toContain(join(disk.dir, SECRETS_KEY_FILE_NAME));
    // Nothing half-written: no empty key that would break every later write, no temp files.
    await expect(stat(join(disk.dir, SECRETS_KEY_FILE_NAME))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(disk.dir, SECRETS_FILE_NAME))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await disk.temps()).toEqual([]);
    expect(await store.ids()).toEqual([]);

    await disk.free();
    await store.set('github.env.TOKEN', TOKEN);
    expect(await store.get('github.env.TOKEN')).toBe(TOKEN);
    expect(await (await openKeyFileSecretStore(disk.dir, options)).get('github.env.TOKEN')).toBe(TOKEN);
  });

  it('a failed change is not visible, and the next one after space returns is written', async () => {
    await using disk = await testDisk(kind);
    const store = createKeyFileSecretStore(disk.dir, { writeFile: disk.writeFile });
    await store.set('a', '1');
    await disk.fill();
    await expect(store.set('b', '2')).rejects.toMatchObject({
      code: 'disk_full',
      field: join(disk.dir, SECRETS_FILE_NAME),
    });
    await expect(store.delete('a')).rejects.toMatchObject({ code: 'disk_full' });
    expect((await store.ids()).sort()).toEqual(['a']);
    expect(await disk.temps()).toEqual([]);
    await disk.free();
    await store.set('c', '3');
    expect((await (await openKeyFileSecretStore(disk.dir)).ids()).sort()).toEqual(['a', 'c']);
  });
});

describe('key file repair', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['an empty', ''],
    ['a short', Buffer.alloc(7, 1).toString('base64')],
  ])('replaces %s key file an older version left, while nothing is sealed yet', async (_what, content) => {
    const keyPath = join(dir, SECRETS_KEY_FILE_NAME);
    await writeFile(keyPath, content);
    await createKeyFileSecretStore(dir).set('a', TOKEN);
    expect(Buffer.from((await readFile(keyPath, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect(await (await openKeyFileSecretStore(dir)).get('a')).toBe(TOKEN);
  });

  it('keeps a damaged key when a sealed file needs it, and says so naming the key file', async () => {
    await createKeyFileSecretStore(dir).set('a', TOKEN);
    const keyPath = join(dir, SECRETS_KEY_FILE_NAME);
    await writeFile(keyPath, '');
    const error = await createKeyFileSecretStore(dir)
      .set('b', 'x')
      .catch((e: unknown) => e);
    expect(isGatewayError(error, 'secrets_unreadable')).toBe(true);
    expect((error as Error).message).toContain(keyPath);
    expect(await readFile(keyPath, 'utf8')).toBe('');
  });

  it('two ciphers creating the key at once agree on one key', async () => {
    const keyPath = join(dir, SECRETS_KEY_FILE_NAME);
    const ciphers = Array.from({ length: 8 }, () => createKeyFileCipher(keyPath));
    const sealed = await Promise.all(ciphers.map((c, i) => c.seal(Buffer.from(`value ${i}`))));
    const reader = createKeyFileCipher(keyPath);
    for (const [i, data] of sealed.entries()) expect((await reader.unseal(data)).toString()).toBe(`value ${i}`);
    expect((await readdir(dir)).sort()).toEqual([SECRETS_KEY_FILE_NAME]);
  });
});
