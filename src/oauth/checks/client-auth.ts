import { OAuthError } from '../errors.js';
import type { ClientRecord } from '../store.js';
import { safeEqual, sha256, type Params } from '../wire.js';
import type { CheckResult } from './check.js';

export interface ClientCredentials {
  clientId: string | undefined;
  secret: string | undefined;
}

/**
 * RFC 6749 §2.3.1: Basic credentials are the form-urlencoded client id and secret, joined by a
 * colon, in base64. Anything else (no colon, a broken percent escape, not base64) is undefined.
 */
export function parseBasic(encoded: string): { clientId: string; secret: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined; // URIError: a malformed percent escape
  }
}

/** RFC 6749 §2.3: who the client says it is, from the Basic header or else the form body. */
export function clientCredentials(form: Params, authorization: string | undefined): ClientCredentials {
  // RFC 7235 §2.1: the scheme name is case-insensitive.
  if (authorization && /^basic /i.test(authorization)) {
    const basic = parseBasic(authorization.slice(6).trim());
    // RFC 6749 §5.2: failed client authentication is invalid_client (401), whatever the cause.
    if (!basic) throw new OAuthError('invalid_client', 'Malformed Basic credentials');
    return basic;
  }
  return { clientId: form.client_id, secret: form.client_secret };
}

/** A known client; RFC 6749 §5.2: an unknown one is invalid_client. */
export function clientKnown(client: ClientRecord | undefined): ClientRecord {
  if (!client) throw new OAuthError('invalid_client', 'Unknown client');
  return client;
}

/** A confidential client proves its secret (kept hashed); a public one (no secret) has nothing to prove. */
export function clientSecretMatches(
  client: Pick<ClientRecord, 'clientSecretHash'>,
  secret: string | undefined,
): CheckResult {
  if (!client.clientSecretHash) return undefined;
  if (secret && safeEqual(sha256(secret), client.clientSecretHash)) return undefined;
  return new OAuthError('invalid_client', 'Client authentication failed');
}
