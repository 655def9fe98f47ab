import { randomBytes } from 'node:crypto';
import type { TokenResponse } from './context.js';
import { sha256 } from './wire.js';

/** RFC 6749 §4.1.2: a code lives a minute at most. */
export const CODE_TTL_MS = 60_000;

export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  subject: string;
  expiresAt: number;
  /**
   * The exchange of this code, under way or done. Set before the first await of the exchange, so
   * any later presentation, even one arriving at the same moment, finds it and is a replay.
   * Cleared only when an exchange failed without issuing anything, for the client to retry.
   */
  exchange?: Promise<TokenResponse>;
  /** Presented again: whatever the exchange issued is revoked and given to nobody (RFC 6749 §4.1.2). */
  replayed: boolean;
  /** What the code was exchanged for. */
  issued: { familyId?: string; jtis: string[] };
}

/**
 * Authorization codes, in memory only and by hash: a code is good for a minute, and a restart
 * costs the client one more sign-in at most. Kept ten times their lifetime, so a late replay is
 * still recognized as one.
 */
export class CodeBook {
  readonly #codes = new Map<string, IssuedCode>();

  /** A new code for the grant; the code itself goes to the redirect, only its hash stays. */
  issue(grant: Omit<IssuedCode, 'expiresAt' | 'replayed' | 'issued' | 'exchange'>, now: number): string {
    const code = randomBytes(32).toString('base64url');
    this.#codes.set(sha256(code), { ...grant, expiresAt: now + CODE_TTL_MS, replayed: false, issued: { jtis: [] } });
    return code;
  }

  find(code: string | undefined): IssuedCode | undefined {
    return code ? this.#codes.get(sha256(code)) : undefined;
  }

  sweep(now: number): void {
    for (const [hash, code] of this.#codes) if (now > code.expiresAt + 10 * CODE_TTL_MS) this.#codes.delete(hash);
  }

  get size(): number {
    return this.#codes.size;
  }
}
