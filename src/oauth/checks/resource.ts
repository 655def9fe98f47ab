import { OAuthError } from '../errors.js';
import { sameResource } from '../wire.js';
import type { CheckResult } from './check.js';

/** RFC 8707 §2: a resource this origin does not serve is invalid_target. Absent: the origin's own. */
export function resourceServed(requested: string | undefined, served: string): CheckResult {
  const resource = requested ?? served;
  return sameResource(resource, served) ? undefined : new OAuthError('invalid_target', `Unknown resource ${resource}`);
}

/** RFC 8707 §2.2: a token request naming a resource names the one the grant is for. */
export function resourceMatchesGrant(requested: string | undefined, granted: string): CheckResult {
  if (requested === undefined || sameResource(requested, granted)) return undefined;
  return new OAuthError('invalid_target', 'resource does not match the authorization request');
}
