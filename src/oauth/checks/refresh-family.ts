import { OAuthError } from '../errors.js';
import type { RefreshFamily } from '../store.js';
import type { CheckResult } from './check.js';

/** The refresh token's grant exists and nobody revoked it. */
export function familyLive(family: RefreshFamily | undefined): RefreshFamily {
  if (!family || family.revokedAt !== undefined) {
    throw new OAuthError('invalid_grant', 'Unknown or revoked refresh token');
  }
  return family;
}

/** RFC 6749 §6: a refresh token is used by the client it was issued to. */
export function familyIssuedTo(family: Pick<RefreshFamily, 'clientId'>, clientId: string): CheckResult {
  return family.clientId === clientId
    ? undefined
    : new OAuthError('invalid_grant', 'Refresh token was issued to another client');
}

export function familyNotExpired(family: Pick<RefreshFamily, 'expiresAt'>, now: number): CheckResult {
  return now > family.expiresAt ? new OAuthError('invalid_grant', 'Refresh token expired') : undefined;
}

/** The family id a refresh token starts with (`<family>.<secret>`); the secret is checked by hash. */
export const familyIdOf = (token: string): string => token.split('.')[0] ?? '';
