import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GatewayError } from '../shared/errors.js';
import { writeFileAtomic, type WriteFileAtomic } from './atomic.js';
import { fileSystemError } from './fs-errors.js';

/**
 * The secret store port: backend secrets (env values, headers) by id. Electron seals them with
 * safeStorage, headless with a key file; the config file only holds references to them.
 */
export interface SecretStore {
  get(id: string): Promise<string | undefined>;
  set(id: string, value: string): Promise<void>;
  /** Whether there was something to delete. */
  delete(id: string): Promise<boolean>;
  ids(): Promise<string[]>;
}

/** Test double and the default for gateways without a data folder; nothing reaches the disk. */
export function createMemorySecretStore(initial: Record<string, string> = {}): SecretStore {
  const values = new Map(Object.entries(initial));
  return {
    get: async (id) => values.get(id),
    set: async (id, value) => void values.set(id, value),
    delete: async (id) => values.delete(id),
    ids: async () => [...values.keys()],
  };
}

/**
 * How the secrets file is sealed. `name` is written into the file, so a file sealed by one cipher
 * (the desktop app's safeStorage) is refused with a clear message by another (the headless key file)
 * instead of failing as if it were damaged.
 */
export interface SecretCipher {
  readonly name: string;
  seal(plaintext: Buffer): Promise<Buffer>;
  /** Throws when the data was not sealed by this cipher's key or was changed since. */
  unseal(sealed: Buffer): Promise<Buffer>;
}

interface SecretsFile {
  version: 1;
  cipher: string;
  /** base64 of the sealed JSON object id → value. */
  data: string;
}

export const SECRETS_FILE_NAME = 'secrets.enc.json';
export const SECRETS_KEY_FILE_NAME = 'secrets.key';

/**
 * Secrets in one file, sealed as a whole (ids included: they name backends and variables) and
 * rewritten atomically on every change. Loaded once, on first use; writes are serialized.
 */
export function createFileSecretStore(options: {
  path: string;
  /** Seals every write. */
  cipher: SecretCipher;
  /**
   * Other ciphers a file may have been sealed with (the desktop app also opens a file the headless
   * CLI wrote into the same folder); the next write reseals it with `cipher`.
   */
  alsoOpens?: readonly SecretCipher[];
  /** Writes the secrets file; tests pass one that fails like a full disk. */
  writeFile?: WriteFileAtomic;
}): SecretStore & {
  /** Reads and unseals the file now, so a damaged one is reported at start-up rather than at first use. */
  load(): Promise<void>;
} {
  const { path, cipher } = options;
  const write = options.writeFile ?? writeFileAtomic;
  const openers = [cipher, ...(options.alsoOpens ?? [])];
  // The file is the truth: another process (the CLI next to the desktop app) may change it, so the
  // cached values are used only while the file's size and time are those they were read at.
  let cache: { map: Map<string, string>; stamp: string } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const values = async () => {
    const stamp = await fileStamp(path);
    if (cache?.stamp !== stamp) cache = { map: await readSecrets(path, openers), stamp };
    return cache.map;
  };

  /** Runs changes one after another, each on the latest values, and writes the file after each. */
  const change = <T>(apply: (map: Map<string, string>) => T): Promise<T> => {
    const run = queue.then(async () => {
      const map = await values();
      const next = new Map(map);
      const result = apply(next);
      await writeSecrets(path, cipher, next, write);
      // Only a written change becomes visible, so a failed write (a full disk) leaves the store as
      // the file is, and the next change starts from there again.
      cache = { map: next, stamp: await fileStamp(path) };
      return result;
    });
    queue = run.catch(() => {});
    return run;
  };

  return {
    load: async () => void (await values()),
    get: async (id) => (await values()).get(id),
    ids: async () => [...(await values()).keys()],
    set: (id, value) => change((map) => void map.set(id, value)),
    delete: async (id) => ((await values()).has(id) ? change((map) => map.delete(id)) : false),
  };
}

async function fileStamp(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return 'missing';
  }
}

async function readSecrets(path: string, openers: readonly SecretCipher[]): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw unreadable(path, `cannot read: ${(error as Error).message}`, error);
  }
  let file: Partial<SecretsFile>;
  try {
    file = JSON.parse(text) as Partial<SecretsFile>;
  } catch (error) {
    throw unreadable(path, 'not valid JSON (the file was changed or truncated)', error);
  }
  if (file?.version !== 1 || typeof file.data !== 'string' || typeof file.cipher !== 'string') {
    throw unreadable(path, 'not a Cortex Gateway secrets file (version 1)');
  }
  const cipher = openers.find((c) => c.name === file.cipher);
  if (!cipher) {
    throw unreadable(
      path,
      `sealed with "${file.cipher}", but this gateway opens ${openers.map((c) => `"${c.name}"`).join(' or ')} (was it written by the desktop app?)`,
    );
  }
  let plain: Buffer;
  try {
    plain = await cipher.unseal(Buffer.from(file.data, 'base64'));
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw unreadable(path, 'cannot be decrypted: it was changed, or its key is not the one it was sealed with', error);
  }
  const parsed = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

async function writeSecrets(
  path: string,
  cipher: SecretCipher,
  values: Map<string, string>,
  write: WriteFileAtomic,
): Promise<void> {
  const sealed = await cipher.seal(Buffer.from(JSON.stringify(Object.fromEntries(values)), 'utf8'));
  const file: SecretsFile = { version: 1, cipher: cipher.name, data: sealed.toString('base64') };
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await write(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  } catch (error) {
    throw fileSystemError(error, path);
  }
}

function unreadable(path: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError(
    'secrets_unreadable',
    `${path}: ${reason}. Backend secrets cannot be read; move the file away to start over (the secrets in it must then be entered again)`,
    { cause },
  );
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface KeyFileCipherOptions {
  /**
   * The file sealed with this key (default: `secrets.enc.json` beside it). While it exists a damaged
   * key is an error, never replaced: replacing it would lose every secret sealed with it.
   */
  sealedPath?: string;
  /** Writes the key file; tests pass one that fails like a full disk. */
  writeFile?: WriteFileAtomic;
}

/**
 * AES-256-GCM with a random key kept in a file only the user can read (0600). GCM's tag makes any
 * change to the sealed data, or a different key, fail loudly instead of decrypting to garbage.
 * The key is created on the first seal, so a gateway without secrets has no key file.
 */
export function createKeyFileCipher(keyPath: string, options: KeyFileCipherOptions = {}): SecretCipher {
  const context: KeyContext = {
    keyPath,
    sealedPath: options.sealedPath ?? join(dirname(keyPath), SECRETS_FILE_NAME),
    writeFile: options.writeFile ?? writeFileAtomic,
  };
  let key: Promise<Buffer> | undefined;
  const readKey = (create: boolean) =>
    (key ??= loadKey(context, create).catch((error: unknown) => {
      // Not cached: once the disk has space again (or the file is fixed) the next call tries anew.
      key = undefined;
      throw error;
    }));
  return {
    name: 'aes-256-gcm+keyfile',
    async seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', await readKey(true), iv);
      const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]);
    },
    async unseal(sealed) {
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed data is too short');
      const decipher = createDecipheriv('aes-256-gcm', await readKey(false), sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    },
  };
}

interface KeyContext {
  keyPath: string;
  sealedPath: string;
  writeFile: WriteFileAtomic;
}

/** The key in the file: a Buffer, `missing`, or `damaged` (empty, short, or not base64 of 32 bytes). */
async function readKeyFile(keyPath: string): Promise<Buffer | 'missing' | 'damaged'> {
  let text: string;
  try {
    text = await readFile(keyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw fileSystemError(error, keyPath, 'read');
  }
  const key = Buffer.from(text.trim(), 'base64');
  return key.length === KEY_BYTES ? key : 'damaged';
}

async function loadKey(context: KeyContext, create: boolean): Promise<Buffer> {
  const { keyPath } = context;
  const found = await readKeyFile(keyPath);
  if (Buffer.isBuffer(found)) {
    // The key protects every backend secret: keep it private even if someone loosened its mode.
    if (process.platform !== 'win32') await chmod(keyPath, 0o600).catch(() => {});
    return found;
  }
  if (found === 'missing' && !create) throw unreadable(keyPath, 'the key file is missing');
  if (found === 'damaged') {
    // An empty or short key is what an older version left when the disk filled up while it wrote
    // the key. With nothing sealed yet it protects nothing: replace it rather than fail every
    // write. Once a sealed file exists, that file needs this very key: say so, never replace it.
    if (!create || (await exists(context.sealedPath))) {
      throw unreadable(keyPath, `the key must be ${KEY_BYTES} bytes, base64`);
    }
    await rm(keyPath, { force: true }).catch((error: unknown) => {
      throw fileSystemError(error, keyPath);
    });
  }
  await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw fileSystemError(error, dirname(keyPath));
  });
  const key = randomBytes(KEY_BYTES);
  try {
    // Created whole or not at all (temp, fsync, link): a full disk can no longer leave an empty key.
    await context.writeFile(keyPath, key.toString('base64') + '\n', 0o600, { exclusive: true });
    return key;
  } catch (error) {
    // Another process created the key meanwhile: use theirs rather than overwrite it.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadKey(context, false);
    throw fileSystemError(error, keyPath);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fileSystemError(error, path, 'read');
  }
}

/** The headless store: `secrets.enc.json` sealed with the 0600 `secrets.key`, both in the data folder. */
export function createKeyFileSecretStore(dataDir: string, options: { writeFile?: WriteFileAtomic } = {}) {
  const path = join(dataDir, SECRETS_FILE_NAME);
  return createFileSecretStore({
    path,
    cipher: createKeyFileCipher(join(dataDir, SECRETS_KEY_FILE_NAME), { sealedPath: path, ...options }),
    ...options,
  });
}

/** The headless store, loaded: a damaged secrets file is reported now, naming the file. */
export async function openKeyFileSecretStore(dataDir: string, options: { writeFile?: WriteFileAtomic } = {}) {
  const store = createKeyFileSecretStore(dataDir, options);
  await store.load();
  return store;
}
