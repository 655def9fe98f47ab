import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { connectClient, nodeBackend, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';
import { approve, ownerSession } from '../helpers/oauth.js';

// oauth4webapi checks every response strictly against the RFCs (issuer identity, RFC 9207 iss,
// PKCE, token response shape); it only needs leave to talk plain http to loopback.
const insecure = { [oauth.allowInsecureRequests]: true };

describe('OAuth with a strict client (oauth4webapi)', () => {
  it('runs discovery → DCR → PKCE → consent → token → refresh → revoke', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const issuer = new URL(gw.mcpUrl.origin);

    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
    );
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.scopes_supported).toEqual(['mcp:toy:read', 'mcp:toy:write']);

    // A confidential client this time: client_secret_basic at the token and revocation endpoints.
    const redirectUri = 'http://localhost:41234/oauth/callback';
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [redirectUri],
          client_name: 'Strict Client',
          token_endpoint_auth_method: 'client_secret_basic',
        },
        insecure,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'client_secret_basic' };
    const auth = oauth.ClientSecretBasic(registered.client_secret as string);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'mcp:toy:write',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: gw.mcpUrl.href,
    }).toString();
    // Write access is never pre-ticked: the owner ticks it.
    const callback = await approve(url, await ownerSession(gw.gateway), ['mcp:toy:write']);
    const params = oauth.validateAuthResponse(as, client, callback, state);

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, insecure),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('mcp:toy:write');
    expect(tokens.refresh_token).toBeTruthy();

    await using session = await connectClient(gw.mcpUrl, tokens.access_token);
    expect(text(await session.client.callTool({ name: 'toy__add_tool', arguments: {} }))).toMatch(/^added_/);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, refreshed.refresh_token!, insecure),
    );
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token!, insecure),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
