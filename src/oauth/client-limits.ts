import { OAuthError } from './errors.js';
import type { ClientRecord, OAuthState, RefreshFamily } from './store.js';

/**
 * What bounds the OAuth store. Registration needs no credentials (RFC 7591 §3, open registration)
 * and a metadata-document client_id is any https URL, so without these anyone who can reach the
 * gateway could grow its files without end. Every limit frees only what nobody uses: a client with
 * a live grant (a refresh family neither revoked nor expired) is never removed.
 */
export const CLIENT_LIMITS = {
  /** A registered client that never got a token is removed this long after registering. */
  neverUsedTtlMs: 24 * 60 * 60_000,
  /** A client without a live grant is removed this long after its last token. */
  unusedTtlMs: 30 * 24 * 60 * 60_000,
  /**
   * Dynamically registered clients that never got a token, kept at most: the oldest goes when a
   * new one comes. Registration is also rate-limited per listener (30 a minute).
   */
  maxNeverUsedDcrClients: 100,
  /**
   * Clients known by their metadata document, kept at most. A new one takes the place of the one
   * used longest ago among those without a live grant; when all have one, it is refused.
   */
  maxCimdClients: 100,
  /** A revoked or expired refresh family is kept this long (replays get the same answer either way), then dropped. */
  deadFamilyRetentionMs: 24 * 60 * 60_000,
  /** Client names are cut to this many characters. */
  maxClientNameLength: 100,
} as const;

/**
 * Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069), the directional marks
 * (U+200E, U+200F, U+061C), every other control (C0, DEL, C1: newlines included), the line and
 * paragraph separators, and the BOM / zero-width characters. In a name they reorder or split the
 * text around them: a page heading or a log line would show something else than was registered.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A client name as stored: unsafe characters replaced by spaces, runs of white space collapsed,
 * trimmed, and cut to `maxClientNameLength` characters (whole code points). Undefined when nothing
 * is left, or the input is not a string.
 */
export function cleanClientName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const cleaned = raw.replace(UNSAFE_IN_NAMES, ' ').replace(/\s+/g, ' ').trim();
  const cut = [...cleaned].slice(0, CLIENT_LIMITS.maxClientNameLength).join('').trim();
  return cut || undefined;
}

const isLive = (family: RefreshFamily, now: number) => family.revokedAt === undefined && family.expiresAt > now;

/** Clients the sweep may remove at all: personal access tokens are the owner's, not clients that come and go. */
const expires = (client: ClientRecord) => client.source === 'dcr' || client.source === 'cimd';

interface Usage {
  live: boolean;
  /** The last time the client got a token, if ever. */
  lastUsedAt: number | undefined;
}

function usageByClient(state: OAuthState, now: number): Map<string, Usage> {
  const usage = new Map<string, Usage>();
  for (const client of Object.values(state.clients)) {
    usage.set(client.clientId, { live: false, lastUsedAt: client.lastUsedAt });
  }
  for (const family of Object.values(state.refreshFamilies)) {
    const entry = usage.get(family.clientId);
    if (!entry) continue;
    if (isLive(family, now)) entry.live = true;
    entry.lastUsedAt = Math.max(entry.lastUsedAt ?? 0, family.lastUsedAt);
  }
  return usage;
}

/** Removes a client with everything that is its own: consent, revocation mark, refresh families. */
function removeClient(state: OAuthState, clientId: string): void {
  delete state.clients[clientId];
  delete state.consents[clientId];
  delete state.revokedClients[clientId];
  for (const [id, family] of Object.entries(state.refreshFamilies)) {
    if (family.clientId === clientId) delete state.refreshFamilies[id];
  }
}

/**
 * Housekeeping, run inside a store update before a client is added: removes clients unused past
 * their time (never used: `neverUsedTtlMs` after registering; used: `unusedTtlMs` after the last
 * token; never while a grant is live), refresh families dead for `deadFamilyRetentionMs`, and
 * revoked token ids past their expiry (the token is refused for its expiry by then). Returns the
 * ids of the clients removed.
 */
export function sweepOAuthState(state: OAuthState, now: number): string[] {
  const removed: string[] = [];
  const usage = usageByClient(state, now);
  for (const client of Object.values(state.clients)) {
    if (!expires(client)) continue;
    const used = usage.get(client.clientId)!;
    if (used.live) continue;
    const deadline =
      used.lastUsedAt === undefined
        ? client.createdAt + CLIENT_LIMITS.neverUsedTtlMs
        : used.lastUsedAt + CLIENT_LIMITS.unusedTtlMs;
    if (now > deadline) {
      removeClient(state, client.clientId);
      removed.push(client.clientId);
    }
  }
  for (const [id, family] of Object.entries(state.refreshFamilies)) {
    const diedAt = family.revokedAt ?? family.expiresAt;
    if (!isLive(family, now) && now - diedAt > CLIENT_LIMITS.deadFamilyRetentionMs) delete state.refreshFamilies[id];
  }
  for (const [jti, expiresAt] of Object.entries(state.revokedJtis)) {
    if (expiresAt <= now) delete state.revokedJtis[jti];
  }
  return removed;
}

/**
 * Makes room for one more dynamically registered client: while `maxNeverUsedDcrClients` clients
 * that never got a token are stored, the oldest of them goes. Returns the ids removed.
 */
export function makeRoomForDcrClient(state: OAuthState, now: number): string[] {
  const usage = usageByClient(state, now);
  const waiting = Object.values(state.clients)
    .filter(
      (c) => c.source === 'dcr' && usage.get(c.clientId)!.lastUsedAt === undefined && !usage.get(c.clientId)!.live,
    )
    .sort((a, b) => a.createdAt - b.createdAt);
  const removed: string[] = [];
  while (waiting.length >= CLIENT_LIMITS.maxNeverUsedDcrClients) {
    const oldest = waiting.shift()!;
    removeClient(state, oldest.clientId);
    removed.push(oldest.clientId);
  }
  return removed;
}

/**
 * Makes room for one more metadata-document client: at `maxCimdClients`, the one without a live
 * grant that was used (or stored) longest ago goes. When every one has a live grant the new client
 * is refused: the owner frees a place by revoking an application in the console.
 */
export function makeRoomForCimdClient(state: OAuthState, now: number): string[] {
  const usage = usageByClient(state, now);
  const stored = Object.values(state.clients).filter((c) => c.source === 'cimd');
  if (stored.length < CLIENT_LIMITS.maxCimdClients) return [];
  const evictable = stored
    .filter((c) => !usage.get(c.clientId)!.live)
    .sort(
      (a, b) => (usage.get(a.clientId)!.lastUsedAt ?? a.createdAt) - (usage.get(b.clientId)!.lastUsedAt ?? b.createdAt),
    );
  const excess = stored.length - CLIENT_LIMITS.maxCimdClients + 1;
  if (evictable.length < excess) {
    throw new OAuthError(
      'temporarily_unavailable',
      `The gateway already knows ${stored.length} applications by their metadata document, each with access; the owner can revoke one in the console to make room`,
      503,
    );
  }
  return evictable.slice(0, excess).map((client) => {
    removeClient(state, client.clientId);
    return client.clientId;
  });
}
