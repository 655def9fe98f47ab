import { OAuthError } from '../errors.js';
import { safeEqual, sha256 } from '../wire.js';
import type { CheckResult } from './check.js';

/** RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of the verifier, 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The authorization request carries a PKCE challenge, and an S256 one (OAuth 2.1 §4.1.1 requires
 * PKCE; `plain` would give the verifier away to whoever sees the request).
 */
export function codeChallengeValid(challenge: string | undefined, method: string | undefined): CheckResult {
  if (!challenge) return new OAuthError('invalid_request', 'PKCE is required: code_challenge is missing');
  if (method !== 'S256') return new OAuthError('invalid_request', 'PKCE code_challenge_method must be S256');
  if (!S256_CHALLENGE.test(challenge))
    return new OAuthError('invalid_request', 'code_challenge is not a S256 challenge');
  return undefined;
}

/** RFC 7636 §4.6: the token request's verifier hashes to the code's challenge. */
export function codeVerifierMatches(verifier: string | undefined, challenge: string): CheckResult {
  if (!verifier || !VERIFIER.test(verifier)) {
    return new OAuthError('invalid_grant', 'code_verifier is missing or malformed');
  }
  if (!safeEqual(sha256(verifier), challenge)) return new OAuthError('invalid_grant', 'PKCE verification failed');
  return undefined;
}
