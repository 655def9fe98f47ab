import { OAuthError } from '../errors.js';
import type { CheckResult } from './check.js';

/** What the checks read of an issued authorization code. */
export interface CodeFacts {
  clientId: string;
  expiresAt: number;
}

/** A presented code the server issued (and has not forgotten). */
export function codeKnown<T>(code: T | undefined): T {
  if (code === undefined) throw new OAuthError('invalid_grant', 'Unknown or expired authorization code');
  return code;
}

/** RFC 6749 §4.1.2: codes are short-lived (ours one minute). */
export function codeNotExpired(code: CodeFacts, now: number): CheckResult {
  return now > code.expiresAt ? new OAuthError('invalid_grant', 'Authorization code expired') : undefined;
}

/** RFC 6749 §4.1.3: a code is exchanged by the client it was issued to. */
export function codeIssuedTo(code: CodeFacts, clientId: string): CheckResult {
  return code.clientId === clientId
    ? undefined
    : new OAuthError('invalid_grant', 'Authorization code was issued to another client');
}

/** RFC 6749 §4.1.2: a code presented again has leaked; whatever it issued is revoked by the grant. */
export const codeReplayed = (): OAuthError =>
  new OAuthError('invalid_grant', 'Authorization code already used; tokens issued from it are revoked');
