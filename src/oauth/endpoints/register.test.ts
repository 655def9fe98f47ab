import { describe, expect, it } from 'vitest';
import { LOCAL, REDIRECT, TUNNEL, testContext } from '../testing.js';
import { sha256 } from '../wire.js';
import { createRegisterEndpoint } from './register.js';

const GRANTS = ['authorization_code', 'refresh_token'];

describe('register endpoint (RFC 7591)', () => {
  it('registers a public client with what the registry offers', async () => {
    const { ctx, store, clock } = await testContext();
    const answer = await createRegisterEndpoint(ctx, GRANTS)({ redirect_uris: [REDIRECT], client_name: 'App' }, LOCAL);
    expect(answer).toMatchObject({
      client_id_issued_at: Math.floor(clock.ms / 1000),
      token_endpoint_auth_method: 'none',
      grant_types: GRANTS,
      client_name: 'App',
    });
    expect(answer.client_secret).toBeUndefined();
    expect(store.state.clients[answer.client_id as string]).toMatchObject({ source: 'dcr', createdAt: clock.ms });
  });

  it('registers a native app with a loopback redirect and echoes its application_type (MCP 2026-07-28)', async () => {
    const { ctx } = await testContext();
    const answer = await createRegisterEndpoint(ctx, GRANTS)(
      { redirect_uris: ['http://127.0.0.1:7777/callback'], application_type: 'native' },
      LOCAL,
    );
    expect(answer.application_type).toBe('native');
    await expect(
      createRegisterEndpoint(ctx, GRANTS)({ redirect_uris: [REDIRECT], application_type: 'daemon' }, LOCAL),
    ).rejects.toMatchObject({ code: 'invalid_client_metadata' });
  });

  it('gives a confidential client its secret once and keeps only its hash', async () => {
    const { ctx, store } = await testContext();
    const answer = await createRegisterEndpoint(ctx, GRANTS)(
      { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
      LOCAL,
    );
    const secret = answer.client_secret as string;
    expect(store.state.clients[answer.client_id as string]!.clientSecretHash).toBe(sha256(secret));
    expect(JSON.stringify(store.state)).not.toContain(secret);
  });

  it('cleans the name of control and bidi characters', async () => {
    const { ctx } = await testContext();
    const answer = await createRegisterEndpoint(ctx, GRANTS)(
      { redirect_uris: [REDIRECT], client_name: 'Evil\u202eApp\nName' },
      LOCAL,
    );
    expect(answer.client_name).not.toMatch(/[\u202e\n]/);
  });

  it('budgets registrations per listener and minute: the tunnel’s flood leaves the local budget alone', async () => {
    const { ctx, clock } = await testContext();
    const register = createRegisterEndpoint(ctx, GRANTS);
    for (let i = 0; i < 30; i++) await register({ redirect_uris: [REDIRECT] }, TUNNEL);
    await expect(register({ redirect_uris: [REDIRECT] }, TUNNEL)).rejects.toMatchObject({ code: 'slow_down' });
    await expect(register({ redirect_uris: [REDIRECT] }, LOCAL)).resolves.toBeDefined();
    clock.advance(60_001);
    await expect(register({ redirect_uris: [REDIRECT] }, TUNNEL)).resolves.toBeDefined();
  });

  it('stores nothing for a refused registration', async () => {
    const { ctx, store } = await testContext();
    await expect(createRegisterEndpoint(ctx, GRANTS)({ redirect_uris: ['file:///etc'] }, LOCAL)).rejects.toMatchObject({
      code: 'invalid_redirect_uri',
    });
    expect(store.state.clients).toEqual({});
  });
});
