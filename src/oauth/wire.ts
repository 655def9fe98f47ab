import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Small helpers every endpoint of the authorization server uses, kept once: hashing of secrets we
 * store (codes, refresh tokens, client secrets), their comparison, and URL parameters.
 */

/** SHA-256, base64url: how codes, refresh tokens and client secrets are kept (never in clear). */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Compares secrets (or their hashes) in constant time, so the time taken tells an attacker nothing. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The URI with the parameters set (undefined ones left out); used for every redirect we answer. */
export function appendParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}

/** Resource indicators compare without a trailing slash (`…/mcp` and `…/mcp/` name one resource). */
export function sameResource(a: string, b: string): boolean {
  const strip = (value: string) => (value.endsWith('/') ? value.slice(0, -1) : value);
  return strip(a) === strip(b);
}

/** A form or query as the endpoints read it: one string per parameter, anything else undefined. */
export type Params = Record<string, string | undefined>;
