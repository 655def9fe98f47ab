import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { nodeBackend, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';
import { approve, MemoryOAuthProvider, ownerSession } from '../helpers/oauth.js';
import type { Gateway } from '../../src/index.js';

async function connectWithOAuth(gateway: Gateway, mcpUrl: URL, provider: MemoryOAuthProvider, chooseScopes?: string[]) {
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  const client = new Client({ name: 'oauth-test', version: '1' });
  // No token yet: the client discovers the server, registers, and sends the user to consent.
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.authorizationUrl).toBeDefined();
  const callback = await approve(provider.authorizationUrl!, await ownerSession(gateway), chooseScopes);
  expect(callback.searchParams.get('iss')).toBe(mcpUrl.origin);
  await first.finishAuth(callback.searchParams.get('code')!);
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  const connected = new Client({ name: 'oauth-test', version: '1' });
  await connected.connect(transport);
  return connected;
}

describe('OAuth with the SDK client (OAuthClientProvider)', () => {
  it('discovers, registers, gets consent, connects, and sees only what was granted', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const provider = new MemoryOAuthProvider();
    const client = await connectWithOAuth(gw.gateway, gw.mcpUrl, provider, ['mcp:toy:read']);
    expect(provider.client?.client_id).toBeTruthy();
    expect(provider.saved?.refresh_token).toBeTruthy();

    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('toy__echo');
    expect(names).not.toContain('toy__add_tool');
    expect(text(await client.callTool({ name: 'toy__echo', arguments: { text: 'authorized' } }))).toBe('authorized');

    const whoami = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as {
      subject: string;
      client: { id: string; name: string };
      scopes: string[];
    };
    expect(whoami.client).toEqual({ id: provider.client!.client_id, name: 'Test Desktop Client' });
    expect(whoami.scopes).toEqual(['mcp:toy:read']);
    await client.close();
  });

  it('answers a call outside the grant with 403 insufficient_scope naming the scope', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const provider = new MemoryOAuthProvider();
    const client = await connectWithOAuth(gw.gateway, gw.mcpUrl, provider, ['mcp:toy:read']);
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${provider.saved!.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'toy__add_tool', arguments: {} },
      }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="mcp:toy:write"');
    await client.close();
  });

  it('refreshes silently, rotating the refresh token', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    const provider = new MemoryOAuthProvider();
    const client = await connectWithOAuth(gw.gateway, gw.mcpUrl, provider);
    await client.close();
    // Expire the access token locally; the SDK refreshes with the refresh token.
    const oldRefresh = provider.saved!.refresh_token;
    provider.saved = { ...provider.saved!, access_token: 'expired.invalid.token' };
    const again = new Client({ name: 'oauth-test', version: '1' });
    await again.connect(new StreamableHTTPClientTransport(gw.mcpUrl, { authProvider: provider }));
    expect(provider.saved.refresh_token).not.toBe(oldRefresh);
    await again.close();
  });

  it('lists the client for the owner (without secrets), and a revoked client is refused at once', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    const provider = new MemoryOAuthProvider();
    const client = await connectWithOAuth(gw.gateway, gw.mcpUrl, provider, ['mcp:toy:read']);
    const api = (method: string, path: string) =>
      fetch(new URL(path, gw.mcpUrl), { method, headers: { authorization: `Bearer ${gw.gateway.ownerToken}` } });
    const listed = ((await (await api('GET', '/api/clients')).json()) as { value: Array<Record<string, unknown>> })
      .value;
    expect(listed).toEqual([
      expect.objectContaining({
        clientId: provider.client!.client_id,
        clientName: 'Test Desktop Client',
        scopes: ['mcp:toy:read'],
        activeGrants: 1,
      }),
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/secret/i);
    expect((await api('DELETE', `/api/clients/${provider.client!.client_id}`)).status).toBe(200);
    // The access token still has most of its hour, but the client's grants are gone now.
    await expect(client.listTools()).rejects.toThrow();
    expect(
      await fetch(gw.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => r.status),
    ).toBe(401);
  });

  it('refuses /mcp without a bearer, pointing at the resource metadata', async () => {
    await using gw = await startGateway({});
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${gw.mcpUrl.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });
});
