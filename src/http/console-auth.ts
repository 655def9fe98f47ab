import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../shared/clock.js';
import { describeError, GatewayError, type GatewayErrorCode } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { ConsoleSessionStore } from '../store/console-sessions.js';

export const CONSOLE_COOKIE = 'cortex_console';
const LOGIN_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 7 * 24 * 60 * 60_000;

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export interface ConsoleSessionsOptions {
  clock: Clock;
  /**
   * Where sessions outlive a restart (the data folder). Without one they live in memory only (tests,
   * an embedded gateway, the tunnel listener). One-time login links always stay in memory: a link
   * printed before a restart is not worth keeping for its few minutes.
   */
  store?: ConsoleSessionStore;
  logger?: Logger;
}

/**
 * Owner sign-in for the headless console: `serve` prints a one-time login link; opening it sets
 * an HttpOnly, SameSite=Strict session cookie. Only hashes are kept, in memory and in the store, so a
 * memory dump, the sessions file or a log line never holds a usable link or cookie.
 */
export class ConsoleSessions {
  readonly #logins = new Map<string, number>();
  readonly #sessions = new Map<string, number>();
  readonly #clock: Clock;
  readonly #store: ConsoleSessionStore | undefined;
  readonly #logger: Logger;
  /** The last write to the store: writes run one after another, each with the state of its turn. */
  #saving: Promise<void> = Promise.resolve();

  constructor(options: ConsoleSessionsOptions) {
    this.#clock = options.clock;
    this.#store = options.store;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Reads the persisted sessions (call once, before serving); expired ones are dropped. */
  async load(): Promise<void> {
    if (!this.#store) return;
    const now = this.#clock.now();
    for (const [key, expires] of await this.#store.load()) if (expires > now) this.#sessions.set(key, expires);
  }

  /** A fresh one-time login token, valid for 15 minutes. */
  loginToken(): string {
    this.#expire();
    const token = randomBytes(32).toString('base64url');
    this.#logins.set(hash(token), this.#clock.now() + LOGIN_TTL_MS);
    return token;
  }

  /**
   * Spends a login token; returns the session cookie value, or undefined if it is unknown, used or
   * expired. The session is persisted before this resolves; if that write fails the sign-in still
   * holds until the gateway stops (the link is spent either way), and the failure is logged.
   */
  async redeem(token: string): Promise<{ cookie: string; maxAgeSeconds: number } | undefined> {
    this.#expire();
    const key = hash(token);
    if (!this.#logins.has(key)) return undefined;
    this.#logins.delete(key);
    const session = randomBytes(32).toString('base64url');
    this.#sessions.set(hash(session), this.#clock.now() + SESSION_TTL_MS);
    await this.#persist().catch((error: unknown) =>
      this.#logger.warn('console session not saved: it ends when the gateway stops', {
        error: describeError(error),
      }),
    );
    return { cookie: session, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  /** Whether the request carries a live console session cookie. */
  authenticated(req: IncomingMessage): boolean {
    const value = cookieValue(req.headers.cookie, CONSOLE_COOKIE);
    if (!value) return false;
    const expires = this.#sessions.get(hash(value));
    return expires !== undefined && expires > this.#clock.now();
  }

  /**
   * Ends the session the request carries (signing out); whether there was one. Resolves once the
   * store no longer holds it, so a restart cannot bring a signed-out session back; rejects if that
   * write failed (the session is already refused by this process).
   */
  async end(req: IncomingMessage): Promise<boolean> {
    const value = cookieValue(req.headers.cookie, CONSOLE_COOKIE);
    if (value === undefined || !this.#sessions.delete(hash(value))) return false;
    this.#expire();
    await this.#persist().catch((error: unknown) => {
      throw new GatewayError(writeFailure(error), `The sign-out could not be saved: ${describeError(error)}`, {
        cause: error,
      });
    });
    return true;
  }

  #persist(): Promise<void> {
    const store = this.#store;
    if (!store) return Promise.resolve();
    // The snapshot is taken when the write's turn comes, so the last write always saves the latest state.
    const write = this.#saving.then(() => store.save(new Map(this.#sessions)));
    this.#saving = write.catch(() => {});
    return write;
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [key, expires] of this.#logins) if (expires <= now) this.#logins.delete(key);
    for (const [key, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(key);
  }
}

/** The error code of a failed write, from its errno (codes in src/shared/errors.ts). */
function writeFailure(error: unknown): GatewayErrorCode {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'permission_denied';
  return 'internal';
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
