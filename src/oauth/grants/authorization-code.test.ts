import { describe, expect, it } from 'vitest';
import { CodeBook } from '../codes.js';
import { CHALLENGE, LOCAL, REDIRECT, storeClient, testContext, VERIFIER } from '../testing.js';
import { createTokenVerifier } from '../tokens.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { createTokenIssuer } from './issuer.js';

async function setup() {
  const test = await testContext();
  const client = await storeClient(test.store);
  const codes = new CodeBook();
  const grant = authorizationCodeGrant(test.ctx, codes, createTokenIssuer(test.ctx));
  const code = codes.issue(
    {
      clientId: client.clientId,
      redirectUri: REDIRECT,
      codeChallenge: CHALLENGE,
      resource: LOCAL.resource,
      scopes: ['mcp:toy:read'],
      subject: 'owner',
    },
    test.clock.ms,
  );
  const form = { code, code_verifier: VERIFIER, redirect_uri: REDIRECT };
  const verify = createTokenVerifier({
    keys: test.ctx.keys,
    issuers: () => [LOCAL.issuer],
    resources: () => [LOCAL.resource],
    clock: test.clock,
    isRevoked: ({ jti }) => jti in test.store.state.revokedJtis,
  });
  return { ...test, client, grant, form, verify };
}

describe('authorization_code grant', () => {
  it('exchanges a code for tokens of its scopes and resource, and records the family', async () => {
    const { grant, client, form, verify, store } = await setup();
    const tokens = await grant(client, form);
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'mcp:toy:read', expires_in: 3600 });
    expect(await verify(tokens.access_token)).toMatchObject({ clientId: client.clientId, scopes: ['mcp:toy:read'] });
    expect(Object.values(store.state.refreshFamilies)).toHaveLength(1);
  });

  it.each([
    ['an unknown code', { code: 'nope' }, 'Unknown or expired authorization code'],
    ['a wrong verifier', { code_verifier: 'b'.repeat(43) }, 'PKCE verification failed'],
    ['another redirect URI', { redirect_uri: 'http://127.0.0.1:9/cb' }, 'redirect_uri does not match'],
    ['another resource', { resource: 'http://127.0.0.1:2/mcp' }, 'resource does not match'],
  ])('refuses %s', async (_what, overrides, message) => {
    const { grant, client, form } = await setup();
    await expect(grant(client, { ...form, ...overrides })).rejects.toThrow(message);
  });

  it('refuses a code presented by another client', async () => {
    const { grant, form } = await setup();
    const other = {
      clientId: 'client-2',
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none' as const,
      source: 'dcr' as const,
      createdAt: 0,
    };
    await expect(grant(other, form)).rejects.toThrow('issued to another client');
  });

  it('refuses a code past its minute on the frozen clock', async () => {
    const { grant, client, form, clock } = await setup();
    clock.advance(60_001);
    await expect(grant(client, form)).rejects.toThrow('Authorization code expired');
  });

  it('a replay revokes what the first exchange issued (RFC 6749 §4.1.2)', async () => {
    const { grant, client, form, verify, store } = await setup();
    const first = await grant(client, form);
    await expect(grant(client, form)).rejects.toThrow('already used');
    await expect(verify(first.access_token)).rejects.toThrow();
    expect(Object.values(store.state.refreshFamilies)[0]!.revokedAt).toBeDefined();
  });

  it('two presentations at once: one exchange, and its tokens go to nobody', async () => {
    const { grant, client, form } = await setup();
    const results = await Promise.allSettled([grant(client, form), grant(client, form)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('lets the client retry when the grant could not be saved', async () => {
    const { grant, client, form, store } = await setup();
    const update = store.update.bind(store);
    store.update = () => Promise.reject(new Error('disk full'));
    await expect(grant(client, form)).rejects.toThrow('disk full');
    store.update = update;
    await expect(grant(client, form)).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});
