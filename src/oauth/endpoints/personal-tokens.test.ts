import { describe, expect, it } from 'vitest';
import { LOCAL, testContext } from '../testing.js';
import { createPersonalTokens } from './personal-tokens.js';

describe('personal tokens', () => {
  it('creates a token whose id, scopes and expiry are kept, never the token itself', async () => {
    const { ctx, store, clock } = await testContext();
    const pats = createPersonalTokens(ctx);
    const created = await pats.create({ name: 'ci', scopes: ['*'], ttlSeconds: 60, origin: LOCAL });
    expect(created.id).toMatch(/^pat_[0-9a-f]{12}$/);
    expect(created.expiresAt).toBe(clock.ms + 60_000);
    expect(pats.list()).toEqual([
      expect.objectContaining({ id: created.id, name: 'ci', scopes: ['*'], createdAt: clock.ms }),
    ]);
    expect(JSON.stringify(store.state)).not.toContain(created.token);
  });

  it('refuses scopes the gateway does not serve, naming them', async () => {
    const { ctx } = await testContext();
    await expect(
      createPersonalTokens(ctx).create({ name: 'x', scopes: ['mcp:nope:read'], ttlSeconds: 60, origin: LOCAL }),
    ).rejects.toMatchObject({ code: 'invalid_scope', description: 'Unknown scope: mcp:nope:read' });
  });

  it('revokes: marked revoked and its token id refused until it would have expired', async () => {
    const { ctx, store } = await testContext();
    const pats = createPersonalTokens(ctx);
    const created = await pats.create({ name: 'x', scopes: [], ttlSeconds: 60, origin: LOCAL });
    expect(await pats.revoke(created.id)).toBe(true);
    const pat = store.state.personalTokens[created.id]!;
    expect(pat.revokedAt).toBeDefined();
    expect(store.state.revokedJtis[pat.jti]).toBe(created.expiresAt);
    expect(await pats.revoke('pat_unknown')).toBe(false);
  });
});
