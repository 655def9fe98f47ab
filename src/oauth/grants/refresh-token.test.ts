import { describe, expect, it } from 'vitest';
import { LOCAL, storeClient, testContext } from '../testing.js';
import { createTokenIssuer } from './issuer.js';
import { refreshTokenGrant } from './refresh-token.js';

async function setup() {
  const test = await testContext();
  const client = await storeClient(test.store);
  const issuer = createTokenIssuer(test.ctx);
  const issued = await issuer.issue({
    clientId: client.clientId,
    subject: 'owner',
    scopes: ['mcp:toy:read', 'mcp:toy:write'],
    resource: LOCAL.resource,
    family: undefined,
  });
  const refresh = (token = issued.response.refresh_token!, extra: Record<string, string> = {}) =>
    refreshTokenGrant(test.ctx, issuer)(client, { refresh_token: token, ...extra });
  return { ...test, client, issued, refresh };
}

describe('refresh_token grant', () => {
  it('rotates: a new refresh token in the same family, the old one replaced', async () => {
    const { refresh, issued, store } = await setup();
    const next = await refresh();
    expect(next.refresh_token).not.toBe(issued.response.refresh_token);
    expect(next.refresh_token!.split('.')[0]).toBe(issued.familyId);
    expect(store.state.refreshFamilies[issued.familyId]!.previousHash).toBeDefined();
  });

  it('answers a retry within the grace window with the same tokens, its expiry counted down', async () => {
    const { refresh, clock } = await setup();
    const first = await refresh();
    clock.advance(10_000);
    const again = await refresh();
    expect(again.access_token).toBe(first.access_token);
    expect(again.expires_in).toBe(3590);
  });

  it('revokes the family when a rotated token comes back after the window (RFC 9700 §4.14.2)', async () => {
    const { refresh, clock, store, issued } = await setup();
    const next = await refresh();
    clock.advance(30_001);
    await expect(refresh()).rejects.toThrow('already used; the grant is revoked');
    expect(store.state.refreshFamilies[issued.familyId]!.revokedAt).toBeDefined();
    await expect(refresh(next.refresh_token)).rejects.toThrow('Unknown or revoked');
  });

  it('narrows the scope on request', async () => {
    const { refresh } = await setup();
    expect((await refresh(undefined, { scope: 'mcp:toy:read' })).scope).toBe('mcp:toy:read');
  });

  it('refuses a widening as invalid_scope', async () => {
    const test = await testContext();
    const client = await storeClient(test.store);
    const issuer = createTokenIssuer(test.ctx);
    const { response } = await issuer.issue({
      clientId: client.clientId,
      subject: 'owner',
      scopes: ['mcp:toy:read'],
      resource: LOCAL.resource,
      family: undefined,
    });
    await expect(
      refreshTokenGrant(test.ctx, issuer)(client, { refresh_token: response.refresh_token!, scope: 'mcp:toy:write' }),
    ).rejects.toMatchObject({ code: 'invalid_scope' });
  });

  it('refuses an expired family, and an unknown token', async () => {
    const { refresh, clock } = await setup();
    await expect(refresh('nope.x')).rejects.toThrow('Unknown or revoked refresh token');
    clock.advance(90 * 24 * 3600 * 1000 + 1);
    await expect(refresh()).rejects.toThrow('Refresh token expired');
  });
});
