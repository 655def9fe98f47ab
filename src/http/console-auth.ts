import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { CONSOLE_SESSION_HEADER } from '../shared/console-session.js';
import type { Clock } from '../shared/clock.js';
import { describeError, GatewayError, type GatewayErrorCode } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { WriteFileAtomic } from '../store/atomic.js';
import { createConsoleSessionFile, type ConsoleSessionStore } from '../store/console-sessions.js';
import { hostnameOf, isLoopbackHostname } from './guards.js';

/**
 * The cookie older versions signed the console in with. Nothing reads it any more; sign-in and
 * sign-out expire it so a browser forgets it (a cookie for 127.0.0.1 reaches every port).
 */
export const LEGACY_CONSOLE_COOKIE = 'cortex_console';
const LOGIN_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 7 * 24 * 60 * 60_000;
/** The header's name as node:http hands it over (lowercased). */
const HEADER = CONSOLE_SESSION_HEADER.toLowerCase();

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

/** What a request needs for these checks: its headers and the socket it came in on. */
export type RequestLike = Pick<IncomingMessage, 'headers' | 'method'> & {
  socket: Pick<IncomingMessage['socket'], 'localPort'> & { encrypted?: boolean };
};

/**
 * Whether the request's `Origin` is this listener's own origin, exactly: the scheme of the socket,
 * and the host and port the request was sent to. A page on another port of the same machine is
 * another origin (RFC 6454 §4: scheme, host and port) and never passes, nor does `null` or no Origin.
 *
 * For a loopback Host the port must also be the socket's own: a browser names in Host the port it
 * connected to, so a page of this listener always passes, and the check means "this listener", not
 * "any server the request may have been relayed through". A Host the owner allowed (a proxy in
 * front) is taken as the proxy spells it.
 */
export function isOwnOrigin(req: RequestLike): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host?.toLowerCase();
  if (!origin || !host) return false;
  const scheme = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  if (origin.toLowerCase() !== `${scheme}://${host}`) return false;
  const hostname = hostnameOf(host);
  if (!isLoopbackHostname(hostname)) return true;
  const port = host.slice(hostname.length + 1) || (scheme === 'https' ? '443' : '80');
  return Number(port) === req.socket.localPort;
}

/** How a request signed in to the console fares on a route: go on, or the answer that refuses it. */
export type ConsoleVerdict =
  | { ok: true }
  | { ok: false; status: 401; code: 'unauthorized'; message: string }
  | { ok: false; status: 403; code: 'forbidden'; message: string };

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
 * Owner sign-in for the console. `serve` prints a one-time login link; the console page it opens
 * spends the link's token (`POST /api/session`, from its own origin) for a session secret, keeps
 * it in `localStorage` and sends it in the `X-Cortex-Session` header. Both are per exact origin,
 * port included: a page on another local port can neither read the secret nor make the browser
 * send it, which a cookie for 127.0.0.1 could not promise (cookies ignore the port, RFC 6265 §8.5).
 * Only hashes are kept, in memory and in the store, so a memory dump, the sessions file or a log
 * line never holds a usable link or secret.
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
   * Spends a login token; returns the new session's secret and expiry, or undefined if the token is
   * unknown, used or expired. The session is persisted before this resolves; if that write fails
   * the sign-in still holds until the gateway stops (the link is spent either way), and the failure
   * is logged.
   */
  async redeem(token: string): Promise<{ secret: string; expiresAt: number } | undefined> {
    this.#expire();
    const key = hash(token);
    if (!this.#logins.has(key)) return undefined;
    this.#logins.delete(key);
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = this.#clock.now() + SESSION_TTL_MS;
    this.#sessions.set(hash(secret), expiresAt);
    await this.#persist().catch((error: unknown) =>
      this.#logger.warn('console session not saved: it ends when the gateway stops', {
        error: describeError(error),
      }),
    );
    return { secret, expiresAt };
  }

  /** Whether the request's `X-Cortex-Session` header carries a live session (its Origin unchecked). */
  signedIn(req: Pick<IncomingMessage, 'headers'>): boolean {
    const secret = sessionSecret(req);
    if (!secret) return false;
    const expires = this.#sessions.get(hash(secret));
    return expires !== undefined && expires > this.#clock.now();
  }

  /**
   * The owner is at the console, now: the request carries a live session in `X-Cortex-Session`
   * *and* comes from this listener's own origin exactly. What any action that must be the owner's
   * own (a consent, a command that will run) asks, at the moment it acts.
   */
  ownerPresent(req: RequestLike): boolean {
    return this.signedIn(req) && isOwnOrigin(req);
  }

  /**
   * The check for an owner API route. A change needs `ownerPresent`. A read (GET, HEAD) needs the
   * live session and no foreign Origin or fetch site: browsers send no Origin on a same-origin GET
   * (Fetch §3.1.6), and no other origin can make one carry the header, because a custom header
   * needs a CORS preflight (Fetch §4.8) and no route approves one.
   */
  check(req: RequestLike): ConsoleVerdict {
    if (!this.signedIn(req)) return { ok: false, status: 401, code: 'unauthorized', message: 'Owner sign-in required' };
    const read = req.method === 'GET' || req.method === 'HEAD';
    const site = req.headers['sec-fetch-site'];
    const allowed = read
      ? (req.headers.origin === undefined || isOwnOrigin(req)) &&
        (site === undefined || site === 'same-origin' || site === 'none')
      : isOwnOrigin(req);
    if (allowed) return { ok: true };
    return {
      ok: false,
      status: 403,
      code: 'forbidden',
      message: 'Console requests must come from the console page of this gateway (its exact origin)',
    };
  }

  /**
   * Ends the session the request carries (signing out); whether there was one. Resolves once the
   * store no longer holds it, so a restart cannot bring a signed-out session back; rejects if that
   * write failed (the session is already refused by this process).
   */
  async end(req: Pick<IncomingMessage, 'headers'>): Promise<boolean> {
    const secret = sessionSecret(req);
    if (secret === undefined || !this.#sessions.delete(hash(secret))) return false;
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

/** The secret in `X-Cortex-Session`, if there is exactly one non-empty value. */
function sessionSecret(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const value = req.headers[HEADER];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The error code of a failed write, from its errno (codes in src/shared/errors.ts). */
function writeFailure(error: unknown): GatewayErrorCode {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'permission_denied';
  return 'internal';
}

/** Signed-in console sessions in the data folder (hashes and expiry only; mode 0600). */
export const CONSOLE_SESSIONS_FILE = 'console-sessions.json';

/** The gateway's console sessions: kept in the data folder when there is one, so a restart keeps them. */
export function openConsoleSessions(options: {
  dataDir: string | undefined;
  writeFile: WriteFileAtomic | undefined;
  clock: Clock;
  logger: Logger;
}): ConsoleSessions {
  const { dataDir, writeFile, clock, logger } = options;
  return new ConsoleSessions({
    clock,
    logger: logger.child({ component: 'console-auth' }),
    ...(dataDir
      ? {
          store: createConsoleSessionFile(join(dataDir, CONSOLE_SESSIONS_FILE), {
            logger,
            ...(writeFile ? { writeFile } : {}),
          }),
        }
      : {}),
  });
}
