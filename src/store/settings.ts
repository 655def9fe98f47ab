import { readFile, rename } from 'node:fs/promises';
import type { z } from 'zod';
import { GatewayError } from '../shared/errors.js';
import { writeFileAtomic, type WriteFileAtomic } from './atomic.js';
import { fileSystemError } from './fs-errors.js';

/** A small typed settings file: read once, validated by its schema, rewritten atomically on change. */
export interface SettingsStore<T> {
  readonly path: string;
  get(): T;
  /** Validates the merged result as a whole; a bad change is refused naming the field, the file untouched. */
  update(change: Partial<T>): Promise<T>;
}

export interface SettingsStoreOptions<T> {
  path: string;
  /** Must give every field a default: `{}` parses to the defaults. */
  schema: z.ZodType<T>;
  /** A file that could not be used was set aside (renamed, not deleted) and defaults apply. */
  onSetAside?: (message: string) => void;
  /** Writes the file; tests pass one that fails like a full disk. */
  writeFile?: WriteFileAtomic;
}

/**
 * Opens the settings file. A missing file means defaults (nothing written until a change); an
 * unreadable or invalid one is renamed to `<name>.invalid-<time>` so the app still starts and the
 * user's file is kept for a look.
 */
export async function openSettingsStore<T>(options: SettingsStoreOptions<T>): Promise<SettingsStore<T>> {
  const { path, schema } = options;
  const write = options.writeFile ?? writeFileAtomic;
  let current = schema.parse({});
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileSystemError(error, path, 'read');
  }
  if (text !== undefined) {
    const problem = describeProblem(text, schema);
    if (typeof problem === 'string') {
      const aside = `${path}.invalid-${Date.now()}`;
      await rename(path, aside).catch((error: unknown) => {
        throw fileSystemError(error, path);
      });
      options.onSetAside?.(`${path}: ${problem}; kept as ${aside}, using the defaults`);
    } else {
      current = problem.value;
    }
  }
  let queue: Promise<unknown> = Promise.resolve();
  return {
    path,
    get: () => current,
    update(change) {
      const run = queue.then(async () => {
        const parsed = schema.safeParse({ ...current, ...change });
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new GatewayError('invalid_argument', `${formatPath(issue.path)}: ${issue.message}`);
        }
        try {
          await write(path, JSON.stringify(parsed.data, null, 2) + '\n', 0o600);
        } catch (error) {
          throw fileSystemError(error, path);
        }
        // Only once the file holds it: a failed write (a full disk) leaves the settings as they were.
        current = parsed.data;
        return current;
      });
      queue = run.catch(() => {});
      return run;
    },
  };
}

function describeProblem<T>(text: string, schema: z.ZodType<T>): string | { value: T } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  return parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}

/** `a.b[1]`, as a user finds the field in the file. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}
