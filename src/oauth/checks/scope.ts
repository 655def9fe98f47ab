import { normalizeScopes, OWNER_WILDCARD, scopeTokens } from '../../federation/scopes.js';
import { OAuthError } from '../errors.js';

/**
 * Scope rules of the authorization server. The `scope` parameter is read by the one parser of the
 * scope model (`normalizeScopes` in src/federation/scopes.ts): leniently, since real clients add
 * scopes of their own; what decides is which known scopes are asked for.
 */

/** The scopes an authorization request asks for that this gateway serves, once each. */
export function requestedScopes(scope: string | undefined, supported: readonly string[]): string[] {
  return normalizeScopes(scope, supported);
}

/** What the owner chose on the consent form or in the approval list, kept to the served scopes. */
export function chosenScopes(chosen: readonly unknown[], supported: readonly string[]): string[] {
  return [...new Set(chosen.filter((s): s is string => typeof s === 'string' && supported.includes(s)))];
}

/**
 * RFC 6749 §6: a refresh may narrow its grant's scope, never widen it: "The requested scope MUST
 * NOT include any scope not originally granted" (invalid_scope). Absent, the grant's scope. Unlike
 * the authorization request, where unknown scopes are dropped, every scope named here must be one
 * of the grant's, served or not.
 */
export function narrowedScopes(scope: string | undefined, granted: readonly string[]): string[] {
  if (scope === undefined) return [...granted];
  const asked = scopeTokens(scope);
  if (asked.some((s) => !granted.includes(s)))
    throw new OAuthError('invalid_scope', 'Requested scope exceeds the grant');
  return granted.filter((s) => asked.includes(s));
}

/** A personal token's scopes: served ones, or the owner's wildcard; anything else is named. */
export function personalTokenScopes(scopes: readonly string[], supported: readonly string[]): string[] {
  const unknown = scopes.filter((s) => !supported.includes(s) && s !== OWNER_WILDCARD);
  if (unknown.length) throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(', ')}`);
  return [...scopes];
}

/**
 * What the consent form ticks and an approval without a choice grants: read access at most. A
 * write scope asked for becomes its server's read scope; a client that names none gets every
 * server's read scope. Write access is the owner's explicit choice.
 */
export function readOnlyDefault(
  requested: readonly string[],
  groups: ReadonlyArray<{ readScope: string; writeScope: string }>,
  supported: readonly string[],
): string[] {
  const reads = new Set(groups.map((g) => g.readScope));
  const chosen =
    requested.length === 0
      ? [...reads]
      : requested.map((s) => groups.find((g) => g.writeScope === s)?.readScope ?? s).filter((s) => reads.has(s));
  return [...new Set(chosen)].filter((s) => supported.includes(s));
}
