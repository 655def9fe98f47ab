import type { FederatedCatalog } from './catalog.js';
import { needOf, scopeNeeded } from './method-grants.js';
import { grantOf } from './scopes.js';

/** The caller as the policy sees it: who (for the record of a refusal) and what it is granted now. */
export interface ScopeCaller {
  clientId: string;
  clientName?: string;
  scopes: readonly string[];
}

/** A tool call refused before any session saw it. */
export interface ScopeRefusal {
  caller: ScopeCaller;
  backend: string;
  tool: string;
  /** The scope that would have allowed it. */
  needed: string;
}

export interface ScopePolicyOptions {
  /** The federated catalog as it is now (it changes as backends come and go). */
  catalog: () => FederatedCatalog;
  /** Told of each refused tool call: the Activity page records it, since no session will. */
  refused?: (refusal: ScopeRefusal) => void;
}

/**
 * For an MCP request body outside the caller's grant, the scope that would allow it (the HTTP layer
 * answers 403 with it, RFC 6750 §3.1 `insufficient_scope`); undefined when the grant covers it.
 */
export type ScopeNeeded = (caller: ScopeCaller, body: unknown) => string | undefined;

/**
 * The scope check in front of the MCP endpoint, from the method table (method-grants.ts). Only
 * requests are judged: a message without an `id` is a notification (JSON-RPC 2.0 §4.1), which the
 * grant does not gate. A batch (JSON-RPC 2.0 §6) is refused for its first request outside the grant.
 * Methods the table lacks pass on to the session, which refuses them per message (-32601), so one
 * in a batch does not fail the others.
 */
export function createScopePolicy(options: ScopePolicyOptions): ScopeNeeded {
  return (caller, body) => {
    const grant = grantOf(caller.scopes);
    const catalog = options.catalog();
    for (const message of Array.isArray(body) ? body : [body]) {
      const request = message as { method?: unknown; params?: unknown; id?: unknown } | null;
      if (typeof request?.method !== 'string' || !('id' in request)) continue;
      const params = typeof request.params === 'object' && request.params !== null ? request.params : undefined;
      const need = needOf(request.method, params as Record<string, unknown> | undefined, catalog);
      const needed = scopeNeeded(grant, need);
      if (!needed) continue;
      if (need?.kind === 'backend' && need.target === 'tool') {
        options.refused?.({ caller, backend: need.backend, tool: need.name, needed });
      }
      return needed;
    }
    return undefined;
  };
}
