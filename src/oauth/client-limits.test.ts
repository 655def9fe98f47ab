import { describe, expect, it } from 'vitest';
import {
  cleanClientName,
  CLIENT_LIMITS,
  makeRoomForCimdClient,
  makeRoomForDcrClient,
  sweepOAuthState,
} from './client-limits.js';
import { OAuthError } from './errors.js';
import { emptyOAuthState, type ClientRecord, type OAuthState, type RefreshFamily } from './store.js';

const T0 = 1_800_000_000_000;
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

const state = emptyOAuthState;

function client(s: OAuthState, id: string, extra: Partial<ClientRecord> = {}): ClientRecord {
  const record: ClientRecord = {
    clientId: id,
    redirectUris: ['http://127.0.0.1/cb'],
    tokenEndpointAuthMethod: 'none',
    source: 'dcr',
    createdAt: T0,
    ...extra,
  };
  s.clients[id] = record;
  return record;
}

function family(s: OAuthState, id: string, clientId: string, extra: Partial<RefreshFamily> = {}): RefreshFamily {
  const record: RefreshFamily = {
    id,
    clientId,
    subject: 'owner',
    scopes: [],
    resource: 'http://127.0.0.1/mcp',
    currentHash: 'h',
    createdAt: T0,
    lastUsedAt: T0,
    expiresAt: T0 + 90 * DAY,
    ...extra,
  };
  s.refreshFamilies[id] = record;
  return record;
}

describe('client names', () => {
  it('lose bidi controls, so a name cannot reorder the text around it', () => {
    expect(cleanClientName('Claude\u202E\u2066evil\u2069\u202C')).toBe('Claude evil');
    for (const c of ['\u202A', '\u202B', '\u202D', '\u2067', '\u2068', '\u200E', '\u200F', '\u061C']) {
      expect(cleanClientName(`a${c}b`)).toBe('a b');
    }
  });

  it('lose line breaks and other controls, so a name cannot forge a log line', () => {
    expect(cleanClientName('App\r\n2026-01-01 INFO owner approved\u0000\u0085\u2028x')).toBe(
      'App 2026-01-01 INFO owner approved x',
    );
    expect(cleanClientName('zero\u200Bwidth\uFEFF')).toBe('zero width');
  });

  it('are trimmed, cut to the limit on whole characters, and absent when nothing is left', () => {
    expect(cleanClientName('  Claude Desktop  ')).toBe('Claude Desktop');
    const long = '😀'.repeat(CLIENT_LIMITS.maxClientNameLength + 5);
    expect([...cleanClientName(long)!]).toHaveLength(CLIENT_LIMITS.maxClientNameLength);
    expect(cleanClientName('\u202E\n ')).toBeUndefined();
    expect(cleanClientName(42)).toBeUndefined();
    expect(cleanClientName('Ünïcødé — ok')).toBe('Ünïcødé — ok');
  });
});

describe('unused clients expire', () => {
  it('a client that never got a token goes a day after registering', () => {
    const s = state();
    client(s, 'fresh', { createdAt: T0 });
    client(s, 'stale', { createdAt: T0 - DAY - 1 });
    s.consents.stale = { clientId: 'stale', scopes: ['a'], decidedAt: T0 - DAY };
    expect(sweepOAuthState(s, T0)).toEqual(['stale']);
    expect(Object.keys(s.clients)).toEqual(['fresh']);
    expect(s.consents).toEqual({});
  });

  it('a used client without a live grant goes 30 days after its last token', () => {
    const s = state();
    client(s, 'recent', { createdAt: T0 - 60 * DAY, lastUsedAt: T0 - 29 * DAY });
    client(s, 'old', { createdAt: T0 - 60 * DAY, lastUsedAt: T0 - 31 * DAY });
    // Its grant was revoked long ago.
    family(s, 'f-old', 'old', { lastUsedAt: T0 - 31 * DAY, revokedAt: T0 - 31 * DAY });
    s.revokedClients.old = T0 - 31 * DAY;
    expect(sweepOAuthState(s, T0)).toEqual(['old']);
    expect(Object.keys(s.clients)).toEqual(['recent']);
    expect(s.refreshFamilies).toEqual({});
    expect(s.revokedClients).toEqual({});
  });

  it('a client with a live refresh family stays, however long unused', () => {
    const s = state();
    client(s, 'kept', { createdAt: T0 - 80 * DAY, lastUsedAt: T0 - 80 * DAY });
    family(s, 'f', 'kept', { lastUsedAt: T0 - 80 * DAY, expiresAt: T0 + 10 * DAY });
    expect(sweepOAuthState(s, T0)).toEqual([]);
    expect(Object.keys(s.clients)).toEqual(['kept']);
    // Once that family has expired, the 30 days count from its last use.
    expect(sweepOAuthState(s, T0 + 10 * DAY + 1)).toEqual(['kept']);
  });

  it("counts a refresh as use even when the client's own record was not touched", () => {
    const s = state();
    client(s, 'c', { createdAt: T0 - 60 * DAY });
    family(s, 'f', 'c', { lastUsedAt: T0 - DAY, revokedAt: T0 - HOUR });
    expect(sweepOAuthState(s, T0)).toEqual([]);
  });

  it('personal access tokens are not clients that expire', () => {
    const s = state();
    client(s, 'pat_1', { source: 'pat', createdAt: T0 - 365 * DAY });
    expect(sweepOAuthState(s, T0)).toEqual([]);
  });

  it('drops refresh families a day after they died, and revoked token ids past their expiry', () => {
    const s = state();
    client(s, 'c', { lastUsedAt: T0 });
    family(s, 'live', 'c');
    family(s, 'revoked-now', 'c', { revokedAt: T0 - HOUR });
    family(s, 'revoked-long-ago', 'c', { revokedAt: T0 - 2 * DAY });
    family(s, 'expired-long-ago', 'c', { expiresAt: T0 - 2 * DAY });
    s.revokedJtis = { past: T0 - 1, due: T0, future: T0 + 1 };
    sweepOAuthState(s, T0);
    expect(Object.keys(s.refreshFamilies).sort()).toEqual(['live', 'revoked-now']);
    expect(s.revokedJtis).toEqual({ future: T0 + 1 });
  });
});

describe('caps', () => {
  it('keeps at most maxNeverUsedDcrClients registrations that never got a token, the oldest going first', () => {
    const s = state();
    const cap = CLIENT_LIMITS.maxNeverUsedDcrClients;
    for (let i = 0; i < cap; i++) client(s, `w${i}`, { createdAt: T0 + i });
    client(s, 'used', { createdAt: T0 - 1, lastUsedAt: T0 });
    client(s, 'meta', { source: 'cimd', createdAt: T0 - 2 });
    expect(makeRoomForDcrClient(s, T0 + cap)).toEqual(['w0']);
    expect(Object.keys(s.clients)).toHaveLength(cap + 1);
    expect(s.clients.used).toBeDefined();
    expect(s.clients.meta).toBeDefined();
    expect(makeRoomForDcrClient(state(), T0)).toEqual([]);
  });

  it('keeps at most maxCimdClients metadata-document clients, evicting the one used longest ago without a grant', () => {
    const s = state();
    const cap = CLIENT_LIMITS.maxCimdClients;
    for (let i = 0; i < cap; i++) {
      client(s, `https://c${i}.example/meta.json`, { source: 'cimd', createdAt: T0 - DAY, lastUsedAt: T0 - i });
      family(s, `f${i}`, `https://c${i}.example/meta.json`, { lastUsedAt: T0 - i });
    }
    // All have live grants: a new one is refused.
    expect(() => makeRoomForCimdClient(s, T0)).toThrow(OAuthError);
    expect(Object.keys(s.clients)).toHaveLength(cap);
    // Two lose their grant; the one used longest ago of them goes.
    s.refreshFamilies.f3!.revokedAt = T0;
    s.refreshFamilies.f5!.revokedAt = T0;
    expect(makeRoomForCimdClient(s, T0)).toEqual(['https://c5.example/meta.json']);
    expect(Object.keys(s.clients)).toHaveLength(cap - 1);
    expect(makeRoomForCimdClient(s, T0)).toEqual([]);
  });
});
