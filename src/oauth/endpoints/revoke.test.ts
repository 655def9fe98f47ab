import { describe, expect, it } from 'vitest';
import { createTokenIssuer } from '../grants/issuer.js';
import { LOCAL, storeClient, testContext } from '../testing.js';
import { createTokenVerifier } from '../tokens.js';
import { createRevokeEndpoint } from './revoke.js';

async function setup() {
  const test = await testContext();
  await storeClient(test.store);
  await storeClient(test.store, { clientId: 'client-2' });
  const issuer = createTokenIssuer(test.ctx);
  const verify = createTokenVerifier({
    keys: test.ctx.keys,
    issuers: () => [LOCAL.issuer],
    resources: () => [LOCAL.resource],
    clock: test.clock,
    isRevoked: ({ jti }) => jti in test.store.state.revokedJtis,
  });
  const issued = await issuer.issue({
    clientId: 'client-1',
    subject: 'owner',
    scopes: [],
    resource: LOCAL.resource,
    family: undefined,
  });
  return { ...test, issued, verify, revoke: createRevokeEndpoint(test.ctx, issuer, verify) };
}

describe('revoke endpoint (RFC 7009)', () => {
  it('revoking a refresh token ends its family and the family’s access tokens (§2.1)', async () => {
    const { revoke, issued, store, verify } = await setup();
    await revoke({ client_id: 'client-1', token: issued.response.refresh_token }, undefined);
    expect(store.state.refreshFamilies[issued.familyId]!.revokedAt).toBeDefined();
    await expect(verify(issued.response.access_token)).rejects.toThrow();
  });

  it('revokes an access token of its own client', async () => {
    const { revoke, issued, store } = await setup();
    await revoke({ client_id: 'client-1', token: issued.response.access_token }, undefined);
    expect(store.state.revokedJtis[issued.jti]).toBeDefined();
  });

  it('leaves another client’s tokens alone and answers unknown tokens without error (§2.2)', async () => {
    const { revoke, issued, store } = await setup();
    await revoke({ client_id: 'client-2', token: issued.response.refresh_token }, undefined);
    await revoke({ client_id: 'client-2', token: issued.response.access_token }, undefined);
    await revoke({ client_id: 'client-2', token: 'garbage' }, undefined);
    expect(store.state.refreshFamilies[issued.familyId]!.revokedAt).toBeUndefined();
    expect(store.state.revokedJtis).toEqual({});
  });
});
