import { readFile, rename } from 'node:fs/promises';
import type { Logger } from '../shared/logger.js';
import { writeFileAtomic, type WriteFileAtomic } from './atomic.js';

/**
 * Where signed-in console sessions outlive a gateway restart. It holds what the gateway checks a
 * credential against (a hash) and when it expires, never the credential itself, and knows nothing of
 * how the credential travels (the `X-Cortex-Session` header, see src/http/console-auth.ts).
 */
export interface ConsoleSessionStore {
  /** Every persisted session: credential hash → expiry (ms since the epoch). */
  load(): Promise<Map<string, number>>;
  /** Replaces what is persisted with exactly these sessions. */
  save(sessions: ReadonlyMap<string, number>): Promise<void>;
}

interface SessionFile {
  version: 1;
  sessions: Array<{ hash: string; expiresAt: number }>;
}

/** A SHA-256 digest in base64url: what ConsoleSessions keys sessions by. */
const HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * The sessions as a JSON file (mode 0600), rewritten atomically on every change. A file that cannot
 * be parsed is set aside as `<file>.corrupt-<time>` (like oauth.json): the owner signs in again,
 * nothing else depends on it.
 */
export function createConsoleSessionFile(
  path: string,
  options: { logger?: Logger; writeFile?: WriteFileAtomic } = {},
): ConsoleSessionStore {
  const write = options.writeFile ?? writeFileAtomic;
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        throw error;
      }
      const sessions = new Map<string, number>();
      try {
        const parsed = JSON.parse(text) as Partial<SessionFile> | null;
        if (!Array.isArray(parsed?.sessions)) throw new Error('no "sessions" list');
        for (const entry of parsed.sessions as unknown[]) {
          const { hash, expiresAt } = (entry ?? {}) as { hash?: unknown; expiresAt?: unknown };
          if (typeof hash === 'string' && HASH.test(hash) && typeof expiresAt === 'number') {
            sessions.set(hash, expiresAt);
          }
        }
      } catch (error) {
        const aside = `${path}.corrupt-${Date.now()}`;
        await rename(path, aside).catch(() => {});
        options.logger?.warn('console sessions file unreadable; set aside, sign in again', {
          path,
          aside,
          error: String(error),
        });
        return new Map();
      }
      return sessions;
    },
    async save(sessions) {
      const file: SessionFile = {
        version: 1,
        sessions: [...sessions].map(([hash, expiresAt]) => ({ hash, expiresAt })),
      };
      await write(path, JSON.stringify(file, null, 2) + '\n', 0o600);
    },
  };
}
