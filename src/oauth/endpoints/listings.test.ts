import { describe, expect, it } from 'vitest';
import { storeClient, T0, testContext } from '../testing.js';
import { listClients, revokeClient } from './listings.js';

describe('listings', () => {
  it('lists clients with their grant and live families, never their secret hash or PAT entries', async () => {
    const { ctx, store } = await testContext();
    await storeClient(store, { clientSecretHash: 'hash', lastUsedAt: T0 + 5 });
    await storeClient(store, { clientId: 'pat_1', source: 'pat' });
    await store.update((state) => {
      state.consents['client-1'] = { clientId: 'client-1', scopes: ['mcp:toy:read'], decidedAt: T0 };
      state.refreshFamilies.f = {
        id: 'f',
        clientId: 'client-1',
        subject: 'owner',
        scopes: [],
        resource: 'r',
        currentHash: 'h',
        createdAt: T0,
        lastUsedAt: T0,
        expiresAt: T0 + 1,
      };
    });
    const views = listClients(ctx);
    expect(views).toEqual([
      expect.objectContaining({ clientId: 'client-1', scopes: ['mcp:toy:read'], activeGrants: 1, lastUsedAt: T0 + 5 }),
    ]);
    expect(JSON.stringify(views)).not.toContain('hash');
  });

  it('revokeClient ends families and consent, and marks the time for its access tokens', async () => {
    const { ctx, store, clock } = await testContext();
    await storeClient(store);
    await store.update((state) => {
      state.consents['client-1'] = { clientId: 'client-1', scopes: [], decidedAt: T0 };
    });
    expect(await revokeClient(ctx, 'client-1')).toBe(true);
    expect(store.state.consents['client-1']).toBeUndefined();
    expect(store.state.revokedClients['client-1']).toBe(clock.ms);
    expect(await revokeClient(ctx, 'nobody')).toBe(false);
  });
});
