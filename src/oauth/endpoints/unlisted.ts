import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../wire.js';
import type { PendingAuthorization } from './approvals.js';

/** An unlisted request's page is good for this long. */
export const UNLISTED_TTL_MS = 10 * 60_000;

/**
 * Requests over the approval list's caps (approvals.ts, LISTED_CAPS) where the page may decide: the
 * gateway keeps nothing of them; their page carries them, sealed with a key of this process.
 */
export class UnlistedRequests {
  /** A new key per process: a restart voids every unlisted page, as it voids the listed ones. */
  readonly #sealKey = randomBytes(32);
  /**
   * Unlisted requests already decided, until they expire: each is decided once. Only the owner adds
   * to it (a decision needs the owner present), so nobody else can grow it.
   */
  readonly #decided = new Map<string, number>();

  /** Whether a request id names a sealed request rather than a listed one. */
  static isSealed(id: string): boolean {
    return id.startsWith('u.');
  }

  /** An unlisted request, signed, for its page to carry. */
  seal(request: PendingAuthorization): string {
    const payload = Buffer.from(JSON.stringify(request)).toString('base64url');
    return `u.${payload}.${this.#mac(payload)}`;
  }

  /** The request a page carried, if this process sealed it, it is not expired and not decided yet. */
  open(sealed: string, now: number): PendingAuthorization | undefined {
    const [, payload = '', mac = ''] = sealed.split('.');
    if (!safeEqual(mac, this.#mac(payload))) return undefined;
    const request = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PendingAuthorization;
    if (now - request.createdAt > UNLISTED_TTL_MS || this.#decided.has(request.id)) return undefined;
    return request;
  }

  /** Marks the request decided; the returned function undoes it (finishing failed). */
  decide(request: PendingAuthorization): () => void {
    this.#decided.set(request.id, request.createdAt + UNLISTED_TTL_MS);
    return () => this.#decided.delete(request.id);
  }

  sweep(now: number): void {
    for (const [id, expiresAt] of this.#decided) if (now > expiresAt) this.#decided.delete(id);
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#sealKey).update(payload).digest('base64url');
  }
}
