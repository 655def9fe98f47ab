import type { GatewayConfig } from '../config/schema.js';
import type { Access, FederatedTool } from './catalog.js';

/**
 * The scope model (DESIGN.md "Names and scopes"): `mcp:<backend>:read` grants a backend's read-only
 * tools, its prompts and its resources; `mcp:<backend>:write` grants all of its tools and implies
 * read. Builtins need no scope. `*` is the local owner's wildcard and is never issued to a client.
 */
export const OWNER_WILDCARD = '*';

export function backendScope(backendId: string, access: Access): string {
  return `mcp:${backendId}:${access}`;
}

/** Every scope a client may ask for, from the configuration (never from a possibly empty live catalog). */
export function supportedScopes(config: GatewayConfig): string[] {
  return config.backends
    .filter((backend) => backend.enabled)
    .flatMap((backend) => [backendScope(backend.id, 'read'), backendScope(backend.id, 'write')]);
}

/** The scope a call to this tool needs. */
export function requiredScope(tool: Pick<FederatedTool, 'backendId' | 'access'>): string {
  return backendScope(tool.backendId, tool.access);
}

export interface Grant {
  /** Whether the grant allows calling (and listing) this tool. */
  allowsTool(tool: Pick<FederatedTool, 'backendId' | 'access'>): boolean;
  /** Whether the grant allows reading this backend's prompts and resources. */
  allowsRead(backendId: string): boolean;
  /** A stable key: sessions with equal grants see equal lists (and share cached ones). */
  readonly key: string;
}

export function grantOf(scopes: Iterable<string>): Grant {
  const set = new Set(scopes);
  const all = set.has(OWNER_WILDCARD);
  const canWrite = (id: string) => all || set.has(backendScope(id, 'write'));
  const canRead = (id: string) => canWrite(id) || set.has(backendScope(id, 'read'));
  return {
    allowsTool: (tool) => (tool.access === 'read' ? canRead(tool.backendId) : canWrite(tool.backendId)),
    allowsRead: canRead,
    key: [...set].sort().join(' '),
  };
}

/**
 * Reads a requested `scope` parameter leniently, as real clients send odd ones (claude.ai adds
 * scopes of its own, some clients use commas): known scopes are kept once each, in the order of
 * the supported list; everything else is dropped rather than failing the request.
 */
export function normalizeScopes(requested: string | undefined, supported: readonly string[]): string[] {
  const asked = new Set(scopeTokens(requested));
  return supported.filter((scope) => asked.has(scope));
}

/** Every scope a `scope` parameter names, as written (space-separated per RFC 6749 §3.3; commas tolerated). */
export function scopeTokens(requested: string | undefined): string[] {
  return requested ? [...new Set(requested.split(/[\s,]+/).filter(Boolean))] : [];
}
