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

/**
 * The tool's part of a federated name never starts with "_". Backend ids contain no "__" (the
 * config refuses such names) but may end with "_"; were a tool part allowed to start with one,
 * backend "a_" with tool "b" and backend "a" with tool "_b" would both be "a___b". With both
 * rules, the first run of underscores in a name is two long (or three, when the id ends with "_")
 * and ends the backend's id, so no backend's tool can ever take a name in another's namespace.
 */
function unambiguous(base: string): string {
  return base.startsWith('_') ? '-' + base.slice(1) : base;
}

/** The backend id a federated name belongs to (see `unambiguous`), or undefined if it is not one. */
export function namespaceOf(name: string): string | undefined {
  const start = name.indexOf(SEPARATOR);
  if (start === -1) return undefined;
  let end = start;
  while (name[end] === '_') end++;
  const id = end - start === 2 ? name.slice(0, start) : end - start === 3 ? name.slice(0, start + 1) : '';
  return id || undefined;
}

export interface NameRequest {
  /** Namespace prefix of the owning backend (already valid: at most 32 characters, no "__"). */
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
    .map((request, index) => ({ request, index, base: unambiguous(sanitize(request.original)) }))
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
    if (sanitize(original) !== original) notes.push('characters outside [A-Za-z0-9_-] replaced');
    if (sanitize(original).startsWith('_'))
      notes.push('leading "_" replaced by "-", which keeps the backend prefix unambiguous');
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
