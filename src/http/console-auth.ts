import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../shared/clock.js';

export const CONSOLE_COOKIE = 'cortex_console';
const LOGIN_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 7 * 24 * 60 * 60_000;

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Owner sign-in for the headless console: `serve` prints a one-time login link; opening it sets
 * an HttpOnly, SameSite=Strict session cookie. Only hashes are kept, so a memory dump or a log
 * line never holds a usable link or cookie.
 */
export class ConsoleSessions {
  readonly #logins = new Map<string, number>();
  readonly #sessions = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** A fresh one-time login token, valid for 15 minutes. */
  loginToken(): string {
    this.#expire();
    const token = randomBytes(32).toString('base64url');
    this.#logins.set(hash(token), this.clock.now() + LOGIN_TTL_MS);
    return token;
  }

  /** Spends a login token; returns the session cookie value, or undefined if it is unknown, used or expired. */
  redeem(token: string): { cookie: string; maxAgeSeconds: number } | undefined {
    this.#expire();
    const key = hash(token);
    if (!this.#logins.has(key)) return undefined;
    this.#logins.delete(key);
    const session = randomBytes(32).toString('base64url');
    this.#sessions.set(hash(session), this.clock.now() + SESSION_TTL_MS);
    return { cookie: session, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  /** Whether the request carries a live console session cookie. */
  authenticated(req: IncomingMessage): boolean {
    const value = cookieValue(req.headers.cookie, CONSOLE_COOKIE);
    if (!value) return false;
    const expires = this.#sessions.get(hash(value));
    return expires !== undefined && expires > this.clock.now();
  }

  /** Ends the session the request carries (signing out); whether there was one. */
  end(req: IncomingMessage): boolean {
    const value = cookieValue(req.headers.cookie, CONSOLE_COOKIE);
    return value !== undefined && this.#sessions.delete(hash(value));
  }

  #expire(): void {
    const now = this.clock.now();
    for (const [key, expires] of this.#logins) if (expires <= now) this.#logins.delete(key);
    for (const [key, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(key);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
