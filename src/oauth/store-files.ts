import { readdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileSystemError } from '../store/fs-errors.js';

/**
 * The OAuth store's files as read from its folder (store.ts writes them): the manifest, the
 * collection files of each generation, and what an earlier version left. A file that is not JSON
 * is set aside for a look, never read as empty over what it held.
 */

/** The commit point: which generation of each collection file is the current one. */
export const OAUTH_MANIFEST = 'state.json';
/** `<file>.<generation>.json`: a new generation is written for each change, never one in place. */
export const GENERATION_FILE = /^([a-z-]+)\.(\d+)\.json$/;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON file's value when `accept` takes it; `undefined` when the file is missing. A file that is not
 * JSON, or not what `accept` wants, is set aside (`<name>.corrupt-<time>`) for a look, and `corrupt`
 * says so.
 */
async function readJsonFile<T>(
  path: string,
  now: () => number,
  accept: (value: unknown) => value is T,
): Promise<T | undefined | 'corrupt'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileSystemError(error, path, 'read');
  }
  try {
    const value: unknown = JSON.parse(text);
    if (accept(value)) return value;
  } catch {
    // Set aside below.
  }
  await rename(path, `${path}.corrupt-${now()}`).catch(() => {});
  return 'corrupt';
}

/** The manifest, `undefined` when there is none, `corrupt` (and set aside) when it is not JSON. */
export function readManifest(dir: string, now: () => number): Promise<unknown> {
  return readJsonFile(
    join(dir, OAUTH_MANIFEST),
    now,
    (value): value is Record<string, unknown> => isRecord(value) && value.version === 2,
  );
}

/** A collection file's object; undefined when missing, or not JSON (then set aside for a look). */
export async function readCollectionFile(
  path: string,
  now: () => number,
): Promise<Record<string, unknown> | undefined> {
  const value = await readJsonFile(path, now, isRecord);
  return value === 'corrupt' ? undefined : value;
}

export async function generationFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => GENERATION_FILE.test(name));
  } catch (error) {
    throw fileSystemError(error, dir, 'read');
  }
}

/** The highest generation in the folder, referenced or not: a new file never takes an old one's name. */
export async function highestGeneration(dir: string): Promise<number> {
  return Math.max(0, ...(await generationFiles(dir)).map((name) => Number(GENERATION_FILE.exec(name)![2])));
}

export async function migratedBackupExists(legacyFile: string): Promise<boolean> {
  try {
    const prefix = `${basename(legacyFile)}.migrated-`;
    return (await readdir(dirname(legacyFile))).some((name) => name.startsWith(prefix));
  } catch {
    return false;
  }
}
