import { describe, expect, it } from 'vitest';
import type { GrantHandler } from '../grants/registry.js';
import { storeClient, testContext } from '../testing.js';
import { sha256 } from '../wire.js';
import { createTokenEndpoint } from './token.js';

const answer = { access_token: 'a', token_type: 'Bearer' as const, expires_in: 1, scope: '' };

async function setup() {
  const test = await testContext();
  await storeClient(test.store);
  await storeClient(test.store, { clientId: 'confidential', clientSecretHash: sha256('s3cret') });
  const calls: string[] = [];
  const handler: GrantHandler = async (client) => {
    calls.push(client.clientId);
    return answer;
  };
  return { ...test, calls, token: createTokenEndpoint(test.ctx, new Map([['authorization_code', handler]])) };
}

describe('token endpoint', () => {
  it('authenticates the client, then hands the form to its grant type’s handler', async () => {
    const { token, calls } = await setup();
    expect(await token({ grant_type: 'authorization_code', client_id: 'client-1' }, undefined)).toBe(answer);
    expect(calls).toEqual(['client-1']);
  });

  it('answers a grant type the registry lacks with unsupported_grant_type', async () => {
    const { token } = await setup();
    await expect(token({ grant_type: 'client_credentials', client_id: 'client-1' }, undefined)).rejects.toMatchObject({
      code: 'unsupported_grant_type',
    });
  });

  it('refuses an unknown client, and a confidential one without its secret, before any grant runs', async () => {
    const { token, calls } = await setup();
    await expect(token({ grant_type: 'authorization_code', client_id: 'nobody' }, undefined)).rejects.toMatchObject({
      code: 'invalid_client',
    });
    await expect(
      token({ grant_type: 'authorization_code', client_id: 'confidential' }, undefined),
    ).rejects.toMatchObject({
      code: 'invalid_client',
    });
    const basic = `Basic ${Buffer.from('confidential:s3cret').toString('base64')}`;
    await expect(token({ grant_type: 'authorization_code' }, basic)).resolves.toBe(answer);
    expect(calls).toEqual(['confidential']);
  });
});
