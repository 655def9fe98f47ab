import { describe, expect, it } from 'vitest';
import { forgetRemovedServers, grantedScopes, rememberedGrant, scopeBackend, setGrant } from './owner-grants.js';
import { OAuthStore, type OAuthState } from './store.js';

async function storeWith(change: (state: OAuthState) => void): Promise<OAuthStore> {
  const store = OAuthStore.memory();
  await store.update(change);
  return store;
}

const client = (clientId: string) => ({
  clientId,
  redirectUris: ['http://127.0.0.1:1/cb'],
  tokenEndpointAuthMethod: 'none' as const,
  source: 'dcr' as const,
  createdAt: 0,
});

describe('grants', () => {
  it('gives an OAuth client its consent now, whatever its token says, and a personal token its own scopes', async () => {
    const store = await storeWith((s) => {
      s.clients.app = client('app');
      s.consents.app = { clientId: 'app', scopes: ['mcp:a:read'], decidedAt: 0 };
      s.personalTokens.pat_1 = { id: 'pat_1', name: 't', scopes: ['*'], createdAt: 0, expiresAt: 1, jti: 'j' };
    });
    expect(grantedScopes(store.state, { clientId: 'app', scopes: ['mcp:a:write', 'mcp:b:write'] })).toEqual([
      'mcp:a:read',
    ]);
    expect(grantedScopes(store.state, { clientId: 'pat_1', scopes: ['*'] })).toEqual(['*']);
  });

  it('gives nothing to a client without a consent, whatever its token says', async () => {
    const store = await storeWith((s) => {
      s.clients.app = client('app');
    });
    expect(grantedScopes(store.state, { clientId: 'app', scopes: ['mcp:a:write'] })).toEqual([]);
    expect(grantedScopes(store.state, { clientId: 'constructor', scopes: ['*'] })).toEqual([]);
  });

  it('answers a returning client with what the owner granted, minus servers not served now', () => {
    expect(rememberedGrant(undefined, ['mcp:a:read'])).toBeUndefined();
    const remembered = { clientId: 'app', scopes: ['mcp:a:read', 'mcp:off:write'], decidedAt: 0 };
    expect(rememberedGrant(remembered, ['mcp:a:read', 'mcp:a:write', 'mcp:new:write'])).toEqual(['mcp:a:read']);
    expect(rememberedGrant({ ...remembered, scopes: [] }, ['mcp:a:read'])).toEqual([]);
  });

  it('changes only an existing grant', async () => {
    const store = await storeWith((s) => {
      s.clients.app = client('app');
      s.clients.stranger = client('stranger');
      s.consents.app = { clientId: 'app', scopes: [], decidedAt: 0 };
    });
    expect(await setGrant(store, 'app', ['mcp:a:read', 'mcp:a:read'], 5)).toBe('ok');
    expect(store.state.consents.app).toEqual({ clientId: 'app', scopes: ['mcp:a:read'], decidedAt: 5 });
    expect(await setGrant(store, 'stranger', ['mcp:a:read'], 5)).toBe('no-grant');
    expect(await setGrant(store, 'nobody', [], 5)).toBe('missing');
    expect(store.state.consents.stranger).toBeUndefined();
  });

  it('forgets scopes of servers no longer configured, and writes nothing when none are stale', async () => {
    const store = await storeWith((s) => {
      s.consents.app = { clientId: 'app', scopes: ['mcp:a:read', 'mcp:gone:write', 'other'], decidedAt: 0 };
    });
    expect(await forgetRemovedServers(store, new Set(['a', 'gone']))).toBe(false);
    expect(await forgetRemovedServers(store, new Set(['a']))).toBe(true);
    expect(store.state.consents.app!.scopes).toEqual(['mcp:a:read', 'other']);
    expect(scopeBackend('mcp:my__fs:write')).toBe('my__fs');
    expect(scopeBackend('openid')).toBeUndefined();
  });
});
