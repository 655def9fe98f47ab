import { createHash } from 'node:crypto';

/** MCP clients (and the models behind them) accept tool names matching this; longer or odder ones break some. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_NAME_LENGTH = 64;
export const SEPARATOR = '__';

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

function sanitize(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return cleaned.length > 0 ? cleaned : '_';
}

export interface NameRequest {
  /** Namespace prefix of the owning backend (already valid, at most 32 characters). */
  prefix: string;
  /** The backend's own name for the tool or prompt. */
  original: string;
}

export interface AssignedName extends NameRequest {
  name: string;
  /** Why the name is not simply `<prefix>__<original>`, for the catalog report. */
  note?: string;
}

/** Fits `<prefix>__<base>` into 64 characters, keeping a hash of the original so shortened names stay distinct. */
function fit(prefix: string, base: string, original: string, forceHash: boolean): string {
  const head = prefix + SEPARATOR;
  const plain = head + base;
  if (!forceHash && plain.length <= MAX_NAME_LENGTH) return plain;
  const suffix = '_' + shortHash(original);
  const room = MAX_NAME_LENGTH - head.length - suffix.length;
  return head + base.slice(0, Math.max(1, room)) + suffix;
}

/**
 * Assigns federated names for a whole catalog at once, so the result depends only on the set of
 * requests: names that need no change are placed first, then the rest in a stable order, and a
 * collision is resolved by a hash of the original name rather than by arrival order.
 */
export function assignNames(requests: readonly NameRequest[]): AssignedName[] {
  const order = requests
    .map((request, index) => ({ request, index, base: sanitize(request.original) }))
    .sort((a, b) => {
      const aExact = a.base === a.request.original ? 0 : 1;
      const bExact = b.base === b.request.original ? 0 : 1;
      if (aExact !== bExact) return aExact - bExact;
      const byPrefix = a.request.prefix < b.request.prefix ? -1 : a.request.prefix > b.request.prefix ? 1 : 0;
      if (byPrefix !== 0) return byPrefix;
      return a.request.original < b.request.original ? -1 : a.request.original > b.request.original ? 1 : 0;
    });
  const taken = new Set<string>();
  const out: AssignedName[] = new Array(requests.length);
  for (const { request, index, base } of order) {
    const { prefix, original } = request;
    let name = fit(prefix, base, original, false);
    const notes: string[] = [];
    if (base !== original) notes.push('characters outside [A-Za-z0-9_-] replaced');
    if (name !== prefix + SEPARATOR + base) notes.push('shortened to 64 characters');
    if (taken.has(name)) {
      name = fit(prefix, base, original, true);
      notes.push('renamed to avoid a collision');
      for (let n = 2; taken.has(name); n++) name = fit(prefix, base, `${original}#${n}`, true);
    }
    taken.add(name);
    const assigned: AssignedName = { prefix, original, name };
    if (notes.length) assigned.note = notes.join('; ');
    out[index] = assigned;
  }
  return out;
}
