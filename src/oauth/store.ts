import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { removeStaleTempFiles, writeFileAtomic, type WriteFileAtomic } from '../store/atomic.js';
import { fileSystemError } from '../store/fs-errors.js';
import { cleanClientName } from './client-limits.js';
import {
  GENERATION_FILE,
  generationFiles,
  highestGeneration,
  isRecord,
  migratedBackupExists,
  OAUTH_MANIFEST,
  readCollectionFile,
  readManifest,
} from './store-files.js';
import type { OAuthState, StoredKey } from './store-records.js';

export { OAUTH_MANIFEST } from './store-files.js';
export type {
  ClientRecord,
  ConsentRecord,
  OAuthState,
  PersonalToken,
  RefreshFamily,
  StoredKey,
} from './store-records.js';

type Collection = keyof OAuthState;

/**
 * The file each collection lives in. A change rewrites only the files whose collections it changed
 * (a token refresh writes the refresh families, not the clients or the keys). A new collection must
 * be given a file here, or this does not compile.
 */
const FILE_OF = {
  keys: 'keys',
  clients: 'clients',
  consents: 'consents',
  refreshFamilies: 'refresh-families',
  personalTokens: 'personal-tokens',
  revokedJtis: 'revocations',
  revokedClients: 'revocations',
} as const satisfies Record<Collection, string>;

type FileName = (typeof FILE_OF)[Collection];

const COLLECTIONS = Object.keys(FILE_OF) as Collection[];
const FILES = [...new Set(Object.values(FILE_OF))] as FileName[];
const collectionsIn = (file: FileName) => COLLECTIONS.filter((c) => FILE_OF[c] === file);

interface Manifest {
  version: 2;
  files: Partial<Record<FileName, string>>;
}

/** A state with nothing in it: a new data folder's, and the start of tests that build one by hand. */
export const emptyOAuthState = (): OAuthState => ({
  keys: [],
  clients: {},
  consents: {},
  refreshFamilies: {},
  personalTokens: {},
  revokedJtis: {},
  revokedClients: {},
});

/** A collection as read from a file, or empty when it is not of the expected shape. */
function collectionFrom<C extends Collection>(name: C, value: unknown): OAuthState[C] {
  if (name === 'keys') return (Array.isArray(value) ? value : []) as OAuthState[C];
  return (isRecord(value) ? value : {}) as OAuthState[C];
}

const serialize = (file: FileName, state: OAuthState) =>
  JSON.stringify(Object.fromEntries(collectionsIn(file).map((c) => [c, state[c]])), null, 2) + '\n';

const EMPTY_TEXT = Object.fromEntries(FILES.map((file) => [file, serialize(file, emptyOAuthState())])) as Record<
  FileName,
  string
>;

/**
 * A copy of the state for a change to work on, cloned lazily: only the collections the change
 * reads or assigns are copied (and then compared and perhaps written), the rest stay shared.
 */
function draftOf(base: OAuthState): { draft: OAuthState; copies: Partial<OAuthState> } {
  const copies: Partial<OAuthState> = {};
  const slots = copies as Record<Collection, unknown>;
  const draft = {} as OAuthState;
  for (const name of COLLECTIONS) {
    Object.defineProperty(draft, name, {
      enumerable: true,
      get: () => (name in slots ? slots[name] : (slots[name] = structuredClone(base[name]))),
      set: (value: unknown) => void (slots[name] = value),
    });
  }
  return { draft, copies };
}

/** What an earlier version kept in one `oauth.json`: the same collections, keys with clear private JWKs. */
interface LegacyKey extends Omit<StoredKey, 'sealedPrivateJwk'> {
  privateJwk?: JWK;
}

export interface OAuthStoreOptions {
  /** Writes the files; tests pass one that fails like a full disk. Default: writeFileAtomic. */
  writeFile?: WriteFileAtomic;
  /**
   * The single-file store of earlier versions (`oauth.json` in the data folder). Found at the first
   * open, its state moves into the collection files and the file itself becomes
   * `<file>.migrated-<time>`, without its private keys.
   */
  legacyFile?: string;
  /** Seals a migrated key's clear private JWK. Without it such keys are kept to verify only. */
  sealPrivateKey?: (privateJwk: JWK, kid: string) => Promise<string>;
  now?: () => number;
}

/**
 * Clients, consents, refresh families, revocations, personal tokens and signing keys (private
 * parts sealed), in one folder (mode 0700, files 0600): a file per collection, so a change writes
 * what it changed rather than everything. A client authorized yesterday refreshes today without a
 * new consent. Without a folder it lives in memory (tests).
 *
 * A change writes each changed collection to a new file `<collection>.<generation>.json` and then
 * the small manifest `state.json` naming the current file of each: the manifest's atomic rename
 * is the commit, so a change spanning collections (a grant revoked: its families, consent and
 * revocation mark) is on disk whole or not at all. Files of the previous generation are removed
 * after the commit; any left by a crash are removed at the next open.
 */
export class OAuthStore {
  #state: OAuthState = emptyOAuthState();
  /** The chain of updates; each settles before the next starts, and a failed one does not stop the next. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Per collection file: the name of its current generation and the text it holds. */
  #written = new Map<FileName, { name: string; text: string }>();
  #generation = 0;

  private constructor(
    readonly dir: string | undefined,
    readonly writeFile: WriteFileAtomic = writeFileAtomic,
  ) {}

  static memory(): OAuthStore {
    return new OAuthStore(undefined);
  }

  /**
   * Opens the folder. No manifest: the legacy file is migrated when there is one, else a fresh
   * state. A manifest that is not JSON is set aside as `state.json.corrupt-<time>`, and each
   * collection is recovered from its newest file. A collection file that is not JSON is set aside
   * likewise and that collection starts empty. Unreadable (permissions, I/O): an error naming the
   * file, since starting fresh would write over every client's grants.
   */
  static async open(dir: string, options: OAuthStoreOptions = {}): Promise<OAuthStore> {
    const store = new OAuthStore(dir, options.writeFile);
    const now = options.now ?? Date.now;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fileSystemError(error, dir);
    }
    await removeStaleTempFiles(dir);
    const manifest = await readManifest(dir, now);
    const legacy = options.legacyFile;
    if (isRecord(manifest)) {
      await store.#load(manifest as unknown as Manifest, now);
      // The migration committed but was stopped before it removed the old file (its backup exists).
      if (legacy && (await migratedBackupExists(legacy))) await rm(legacy, { force: true }).catch(() => {});
    } else if (legacy && (await store.#migrate(legacy, options, now))) {
      // Migrated.
    } else if (manifest === 'corrupt') {
      await store.#recover(now);
    }
    await store.#removeUnreferenced();
    return store;
  }

  get state(): Readonly<OAuthState> {
    return this.#state;
  }

  /**
   * Applies a change and persists it. Updates run one at a time, each on the state the previous
   * one left. The change is made on a copy, which becomes the state only once the files hold it:
   * a failed write (a full disk) leaves memory and files as they were, the caller gets the error
   * (`disk_full` naming the file), and the next update starts from the last written state.
   */
  update(change: (state: OAuthState) => void): Promise<void> {
    const run = this.#queue.then(async () => {
      const { draft, copies } = draftOf(this.#state);
      change(draft);
      const next = { ...this.#state, ...copies };
      if (this.dir) await this.#persist(next, new Set(Object.keys(copies).map((c) => FILE_OF[c as Collection])));
      this.#state = next;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Writes the files among `candidates` whose text changed, then the manifest naming them. */
  async #persist(next: OAuthState, candidates: ReadonlySet<FileName>): Promise<void> {
    const dir = this.dir!;
    const changed: Array<{ file: FileName; name: string; text: string }> = [];
    for (const file of candidates) {
      const text = serialize(file, next);
      // A collection without a file is empty: it gets one once it holds something.
      if (text !== (this.#written.get(file)?.text ?? EMPTY_TEXT[file])) changed.push({ file, name: '', text });
    }
    if (changed.length === 0) return;
    const created: string[] = [];
    try {
      for (const entry of changed) {
        entry.name = `${entry.file}.${++this.#generation}.json`;
        const path = join(dir, entry.name);
        created.push(path);
        await this.#write(path, entry.text);
      }
      const files: Manifest['files'] = {};
      for (const file of FILES) {
        const name = changed.find((c) => c.file === file)?.name ?? this.#written.get(file)?.name;
        if (name) files[file] = name;
      }
      const manifest: Manifest = { version: 2, files };
      await this.#write(join(dir, OAUTH_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    } catch (error) {
      // Not committed: the manifest still names the previous files, so these are not the state.
      await Promise.all(created.map((path) => rm(path, { force: true }).catch(() => {})));
      throw error;
    }
    for (const entry of changed) {
      const previous = this.#written.get(entry.file)?.name;
      this.#written.set(entry.file, { name: entry.name, text: entry.text });
      // Superseded; one left behind (a crash right here) goes at the next open.
      if (previous) await rm(join(dir, previous), { force: true }).catch(() => {});
    }
  }

  async #write(path: string, text: string): Promise<void> {
    try {
      await this.writeFile(path, text, 0o600);
    } catch (error) {
      throw fileSystemError(error, path);
    }
  }

  async #load(manifest: Manifest, now: () => number): Promise<void> {
    const state = emptyOAuthState();
    const files = isRecord(manifest.files) ? manifest.files : {};
    for (const file of FILES) {
      const name = files[file];
      if (typeof name !== 'string' || !GENERATION_FILE.test(name) || GENERATION_FILE.exec(name)![1] !== file) continue;
      const parsed = await readCollectionFile(join(this.dir!, name), now);
      if (!parsed) continue;
      for (const c of collectionsIn(file)) (state as Record<Collection, unknown>)[c] = collectionFrom(c, parsed[c]);
      this.#written.set(file, { name, text: serialize(file, state) });
    }
    this.#state = state;
    this.#generation = await highestGeneration(this.dir!);
  }

  /** After a damaged manifest: each collection from the newest of its files that reads, then a new manifest. */
  async #recover(now: () => number): Promise<void> {
    const byFile = new Map<FileName, string[]>();
    for (const name of await generationFiles(this.dir!)) {
      const file = GENERATION_FILE.exec(name)![1] as FileName;
      if (FILES.includes(file)) byFile.set(file, [...(byFile.get(file) ?? []), name]);
    }
    const generation = (name: string) => Number(GENERATION_FILE.exec(name)![2]);
    const state = emptyOAuthState();
    for (const [file, names] of byFile) {
      for (const name of names.sort((a, b) => generation(b) - generation(a))) {
        const parsed = await readCollectionFile(join(this.dir!, name), now);
        if (!parsed) continue;
        for (const c of collectionsIn(file)) (state as Record<Collection, unknown>)[c] = collectionFrom(c, parsed[c]);
        break;
      }
    }
    this.#generation = await highestGeneration(this.dir!);
    await this.#persist(state, new Set(FILES));
    this.#state = state;
  }

  /**
   * Moves the single-file state of an earlier version in: private keys sealed (or dropped without a
   * sealer), client names cleaned; the old file kept as `<file>.migrated-<time>` with its private
   * keys removed, and the file itself removed once the new state is committed. False when there is
   * no legacy file.
   */
  async #migrate(legacyFile: string, options: OAuthStoreOptions, now: () => number): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(legacyFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fileSystemError(error, legacyFile, 'read');
    }
    let parsed: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(text);
      if (!isRecord(value)) throw new Error('not an object');
      parsed = value;
    } catch {
      // Keep the unreadable file for inspection instead of overwriting what the user had.
      await rename(legacyFile, `${legacyFile}.corrupt-${now()}`).catch(() => {});
      return false;
    }
    const state = emptyOAuthState();
    const copy = structuredClone(parsed);
    for (const c of COLLECTIONS)
      if (c !== 'keys') (state as Record<Collection, unknown>)[c] = collectionFrom(c, copy[c]);
    const legacyKeys = collectionFrom('keys', parsed.keys) as unknown as LegacyKey[];
    state.keys = [];
    for (const { privateJwk, ...key } of legacyKeys) {
      const stored: StoredKey = { ...key };
      if (privateJwk && options.sealPrivateKey)
        stored.sealedPrivateJwk = await options.sealPrivateKey(privateJwk, key.kid);
      // A key that cannot sign is not the active one: the key ring makes a new one.
      if (!stored.sealedPrivateJwk) stored.active = false;
      state.keys.push(stored);
    }
    for (const client of Object.values(state.clients)) {
      const name = cleanClientName(client.clientName);
      if (name === undefined) delete client.clientName;
      else client.clientName = name;
    }
    // The backup keeps what the old file said, except the private keys: sealed above, they must
    // not stay anywhere in clear.
    const backup = {
      ...parsed,
      keys: legacyKeys.map((key) => {
        const { privateJwk: _private, ...rest } = key;
        return rest;
      }),
    };
    await this.#write(`${legacyFile}.migrated-${now()}`, JSON.stringify(backup, null, 2) + '\n');
    await this.#persist(state, new Set(FILES));
    this.#state = state;
    await rm(legacyFile, { force: true }).catch(() => {});
    return true;
  }

  /** Collection files no manifest names: from an update that failed or a crash before its clean-up. */
  async #removeUnreferenced(): Promise<void> {
    const current = new Set([...this.#written.values()].map((w) => w.name));
    for (const name of await generationFiles(this.dir!)) {
      if (!current.has(name)) await rm(join(this.dir!, name), { force: true }).catch(() => {});
    }
  }
}
