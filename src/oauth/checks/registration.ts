import { OAuthError } from '../errors.js';
import { checkRedirectUris } from '../redirect-uri.js';
import type { ClientRecord } from '../store.js';

/** At most this many registrations per listener and minute (see endpoints/register.ts). */
export const REGISTRATIONS_PER_MINUTE = 30;

/** The registration budget of a listener: `recent` are its registration times in the last minute. */
export function registrationAllowed(recent: readonly number[]): void {
  if (recent.length >= REGISTRATIONS_PER_MINUTE) {
    throw new OAuthError('slow_down', 'Too many registrations; try again in a minute', 429);
  }
}

/** RFC 7591 §2: client metadata is a JSON object. */
export function registrationBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_client_metadata', 'Registration body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** RFC 7591 §3.2.2: redirect URIs we would send a browser to (redirect-uri.ts), else invalid_redirect_uri. */
export function registeredRedirectUris(value: unknown): string[] {
  const uris = checkRedirectUris(value);
  if (!uris.ok) throw new OAuthError('invalid_redirect_uri', uris.reason);
  return uris.uris;
}

/** RFC 7591 §2: the token endpoint authentication method, `none` (a public client) when absent. */
export function tokenEndpointAuthMethod(requested: unknown): ClientRecord['tokenEndpointAuthMethod'] {
  if (requested === undefined) return 'none';
  if (requested === 'none' || requested === 'client_secret_post' || requested === 'client_secret_basic') {
    return requested;
  }
  throw new OAuthError('invalid_client_metadata', `token_endpoint_auth_method ${String(requested)} is not supported`);
}

/**
 * OpenID Connect Dynamic Client Registration §2 `application_type`, which MCP 2026-07-28 asks
 * clients to send (SEP-837): `native` for desktop and command-line apps with loopback redirects,
 * `web` otherwise. Either is accepted, with a loopback redirect too: this authorization server
 * runs on the user's own machine, where every client is local. Anything else is refused by name.
 */
export function applicationType(requested: unknown): 'native' | 'web' | undefined {
  if (requested === undefined || requested === 'native' || requested === 'web') return requested;
  throw new OAuthError('invalid_client_metadata', `application_type ${JSON.stringify(requested)} is not native or web`);
}
