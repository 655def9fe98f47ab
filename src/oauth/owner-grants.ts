import type { ConsentRecord, OAuthState, OAuthStore } from './store.js';

/**
 * What an application may use is the owner's decision for it, kept as its consent record: the
 * rules that read and change it, in one place (DESIGN.md, "Security model": grants outlive catalog
 * changes, and only the owner grants).
 */

/**
 * The scopes a token's holder has now. An application signed in through OAuth has what the owner
 * currently grants it (its consent record), whatever its token says: a change in the console
 * applies to its next request, not at its next sign-in. A personal access token keeps the scopes
 * it was created with. Anything else has none (deny by default): a client whose consent was
 * revoked or never given.
 */
export function grantedScopes(
  state: Readonly<OAuthState>,
  token: { clientId: string; scopes: readonly string[] },
): readonly string[] {
  if (Object.hasOwn(state.personalTokens, token.clientId)) return token.scopes;
  return Object.hasOwn(state.consents, token.clientId) ? state.consents[token.clientId]!.scopes : [];
}

/**
 * The grant a sign-in gets without asking the owner again, or undefined when the owner has not
 * decided for this client yet. A remembered decision is what the client gets, whatever it asks
 * for: clients ask for every scope the gateway lists (mcp-remote, Claude Desktop), so a client
 * signing in again after a server was added would otherwise face a consent page with the new
 * server on it. New servers stay off for it until the owner turns them on (`setGrant`). Scopes of
 * servers no longer served (disabled) stay in the record but are not issued.
 */
export function rememberedGrant(
  remembered: ConsentRecord | undefined,
  supported: readonly string[],
): string[] | undefined {
  if (!remembered) return undefined;
  return remembered.scopes.filter((scope) => supported.includes(scope));
}

/**
 * The owner changes what an application is granted (the console's per-app access). Only an
 * existing grant can be changed: a client that never got the owner's consent (anyone on this
 * machine can register one) must ask first, or it would be let in without a consent page at its
 * next sign-in. Answers `missing` for an unknown client, `no-grant` for one without a consent.
 */
export async function setGrant(
  store: OAuthStore,
  clientId: string,
  scopes: readonly string[],
  now: number,
): Promise<'ok' | 'missing' | 'no-grant'> {
  const state = store.state;
  if (!Object.hasOwn(state.clients, clientId) || state.clients[clientId]!.source === 'pat') return 'missing';
  if (!Object.hasOwn(state.consents, clientId)) return 'no-grant';
  await store.update((next) => {
    next.consents[clientId] = { clientId, scopes: [...new Set(scopes)], decidedAt: now };
  });
  return 'ok';
}

/** The backend id a scope names (`mcp:<id>:read|write`), or undefined for any other scope. */
export function scopeBackend(scope: string): string | undefined {
  return /^mcp:(.+):(?:read|write)$/.exec(scope)?.[1];
}

/**
 * Forgets grants to servers that are no longer configured, so a server added later under a removed
 * one's name starts off for every application, as any new server does. Disabled servers are still
 * configured: turning one off and on again keeps who may use it. Writes only when something changes.
 */
export async function forgetRemovedServers(store: OAuthStore, configured: ReadonlySet<string>): Promise<boolean> {
  const kept = (scopes: readonly string[]) =>
    scopes.filter((scope) => {
      const backend = scopeBackend(scope);
      return backend === undefined || configured.has(backend);
    });
  const stale = Object.values(store.state.consents).some((c) => kept(c.scopes).length !== c.scopes.length);
  if (!stale) return false;
  await store.update((next) => {
    for (const consent of Object.values(next.consents)) consent.scopes = kept(consent.scopes);
  });
  return true;
}
