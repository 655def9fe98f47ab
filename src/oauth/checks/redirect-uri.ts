import { OAuthError } from '../errors.js';
import { matchRedirectUri } from '../redirect-uri.js';
import type { ClientRecord } from '../store.js';
import type { CheckResult } from './check.js';

/**
 * Where the authorization response goes: the requested URI when the client registered it (a
 * loopback one on any port, RFC 8252 §7.3), or the one URI it registered when it names none
 * (RFC 6749 §3.1.2.3). Undefined: nowhere, and the error is shown rather than redirected (§4.1.2.1).
 */
export function redirectUriFor(requested: string | undefined, client: Pick<ClientRecord, 'redirectUris'>) {
  const uri = requested ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  return uri && matchRedirectUri(uri, client.redirectUris) ? uri : undefined;
}

/** RFC 6749 §4.1.3: the token request repeats the authorization request's redirect_uri, if it sent one. */
export function redirectUriMatchesCode(presented: string | undefined, codeRedirectUri: string): CheckResult {
  if (presented === undefined || presented === codeRedirectUri) return undefined;
  return new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
}
