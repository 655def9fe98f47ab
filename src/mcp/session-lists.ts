import { ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import type { FederatedCatalog } from '../federation/catalog.js';
import type { ListKind } from '../federation/federation.js';
import { grantOf, type Grant } from '../federation/scopes.js';
import { PRESERIALIZED } from '../shared/json-rpc.js';
import { BUILTIN_TOOLS } from './builtins.js';
import { WireError } from './wire-errors.js';

/** What a session lists: the federated lists filtered by its grant, cached per catalog version, paged. */

export const visibleTools = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.tools.filter((tool) => grant.allowsTool(tool)).map((tool) => tool.definition);
export const visiblePrompts = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.prompts.filter((prompt) => grant.allowsRead(prompt.backendId)).map((prompt) => prompt.definition);
export const visibleResources = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.resources.filter((_, i) => grant.allowsRead(catalog.resourceOwners[i]!.id));
export const visibleTemplates = (catalog: FederatedCatalog, grant: Grant) =>
  catalog.resourceTemplates.filter((_, i) => grant.allowsRead(catalog.templateOwners[i]!.id));

const viewCache = new WeakMap<FederatedCatalog, Map<string, string>>();

/**
 * What a grant lists of one kind in one catalog version, as a string to compare: cached per catalog
 * (immutable, so old versions are collected) and grant key, so sessions with equal grants share it.
 * A key other than the current grant's is rebuilt into its grant (a key lists the scopes).
 */
export function viewSignature(kind: ListKind, catalog: FederatedCatalog, key: string, current: () => Grant): string {
  let byKey = viewCache.get(catalog);
  if (!byKey) {
    byKey = new Map();
    viewCache.set(catalog, byKey);
  }
  const cacheKey = `${kind}\u0000${key}`;
  let signature = byKey.get(cacheKey);
  if (signature === undefined) {
    const grant = current().key === key ? current() : grantOf(key ? key.split(' ') : []);
    const view =
      kind === 'tools'
        ? visibleTools(catalog, grant)
        : kind === 'prompts'
          ? visiblePrompts(catalog, grant)
          : [visibleResources(catalog, grant), visibleTemplates(catalog, grant)];
    signature = JSON.stringify(view);
    byKey.set(cacheKey, signature);
  }
  return signature;
}

type ToolList = { tools: Tool[]; [PRESERIALIZED]: string };
const toolListCache = new WeakMap<FederatedCatalog, Map<string, ToolList>>();

/**
 * The whole tool list, built and serialized once per catalog version and per visibility (the set
 * of grants that decides which tools a session sees): catalogs are immutable and rebuilt on
 * change, so the catalog object itself keys the cache and old versions are collected.
 */
export function fullToolList(catalog: FederatedCatalog, grant: Grant): ToolList {
  let byVisibility = toolListCache.get(catalog);
  if (!byVisibility) {
    byVisibility = new Map();
    toolListCache.set(catalog, byVisibility);
  }
  let entry = byVisibility.get(grant.key);
  if (!entry) {
    const tools = [...BUILTIN_TOOLS, ...visibleTools(catalog, grant)];
    entry = { tools, [PRESERIALIZED]: JSON.stringify({ tools }) };
    byVisibility.set(grant.key, entry);
  }
  return entry;
}

/** Opaque cursors over the federated lists; a page size of 0 returns everything at once. */
export function paginate<T>(
  all: readonly T[],
  cursor: string | undefined,
  pageSize: number,
): { items: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    const decoded = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0 || decoded > all.length) {
      throw new WireError(ProtocolErrorCode.InvalidParams, 'Invalid cursor');
    }
    offset = decoded;
  }
  if (pageSize <= 0) return { items: all.slice(offset) };
  const end = offset + pageSize;
  const items = all.slice(offset, end);
  return end < all.length ? { items, nextCursor: Buffer.from(String(end)).toString('base64url') } : { items };
}
