import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseConfig } from '../../src/config/load.js';
import { nodeBackend, startGateway, text, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';
import {
  approve,
  authorizationRequest,
  decisionLocation,
  MemoryOAuthProvider,
  openConsent,
  ownerSession,
  submitConsent,
} from '../helpers/oauth.js';

/** Signs an app in as the SDK does (register, consent with these scopes) and connects it. */
async function signIn(gw: RunningGateway, provider: MemoryOAuthProvider, scopes: string[]): Promise<Client> {
  const mcpUrl = gw.mcpUrl;
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await expect(new Client({ name: 'app', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  const callback = await approve(provider.authorizationUrl!, await ownerSession(gw.gateway), scopes);
  await first.finishAuth(callback.searchParams.get('code')!);
  const client = new Client({ name: 'app', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  return client;
}

/**
 * The app starts a sign-in again asking for every scope the gateway now lists, as mcp-remote does
 * when that list changed, and the owner's browser (signed in to the console) carries it on as the
 * page's script does: no choice to make, the earlier grant is what is ticked. Returns the page
 * (no code without the owner) and the token the code is worth.
 */
async function signInAgain(gw: RunningGateway, provider: MemoryOAuthProvider) {
  const metadata = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', gw.mcpUrl))).json()) as {
    scopes_supported: string[];
  };
  const { url, verifier } = authorizationRequest(gw.mcpUrl, {
    clientId: provider.client!.client_id,
    redirectUri: provider.redirect,
    scope: metadata.scopes_supported.join(' '),
    state: 'again',
  });
  url.searchParams.set('resource', gw.mcpUrl.href);
  const page = await openConsent(url);
  const location = await decisionLocation(
    await submitConsent(page, 'approve', undefined, { owner: await ownerSession(gw.gateway) }),
  );
  const token = (await (
    await fetch(new URL('/token', gw.mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: location.searchParams.get('code')!,
        code_verifier: verifier,
        client_id: provider.client!.client_id,
        redirect_uri: provider.redirect,
      }),
    })
  ).json()) as { access_token: string; scope: string };
  return { returning: page.html.includes('data-returning="approve"'), asked: metadata.scopes_supported, token };
}

/** The owner API with the owner's bearer (what the CLI uses). */
function ownerApi(gw: RunningGateway) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, gw.mcpUrl), {
      method,
      headers: {
        authorization: `Bearer ${gw.gateway.ownerToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { ok: boolean; value?: unknown; error?: Record<string, string> },
    };
  };
}

/** The gateway's servers now, plus or minus some (what an owner's edit of `mcpServers` does). */
const servers = (entries: Record<string, unknown>) => parseConfig({ mcpServers: entries, gateway: { port: 0 } });

const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);

describe('grants survive catalog changes', () => {
  it('lets an app that consented keep signing in when a server is added; the new server stays off until the owner turns it on', async () => {
    const before = { toy: nodeBackend(TOY) };
    await using gw = await startGateway(before);
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const provider = new MemoryOAuthProvider();
    const client = await signIn(gw, provider, ['mcp:toy:read']);
    let told = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void told++);

    await gw.gateway.reconfigure(servers({ ...before, extra: nodeBackend(TOY, [], { TOY_NAME: 'extra' }) }));
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'extra ready');

    // Signing in again, asking for everything listed now: no consent page, a code for what the owner granted.
    const again = await signInAgain(gw, provider);
    expect(again.asked).toContain('mcp:extra:write');
    expect(again.returning).toBe(true);
    expect(again.token?.scope).toBe('mcp:toy:read');
    expect(await names(client)).not.toContain('extra__echo');

    // The owner turns the new server on for this app: its open session sees it on its next request.
    const api = ownerApi(gw);
    const id = provider.client!.client_id;
    const changed = await api('PUT', `/api/clients/${id}/scopes`, { scopes: ['mcp:toy:read', 'mcp:extra:read'] });
    expect(changed).toEqual({
      status: 200,
      body: { ok: true, value: expect.objectContaining({ clientId: id, scopes: ['mcp:toy:read', 'mcp:extra:read'] }) },
    });
    await waitFor(() => told > 0, 'tools/list_changed for the app');
    const listed = await names(client);
    expect(listed).toContain('extra__echo');
    expect(listed).not.toContain('extra__add_tool'); // read only: its write tools stay off
    expect(text(await client.callTool({ name: 'extra__echo', arguments: { text: 'on' } }))).toBe('on');

    // Turned off again: refused at once, with the same token and session.
    expect((await api('PUT', `/api/clients/${id}/scopes`, { scopes: ['mcp:toy:read'] })).status).toBe(200);
    expect(await names(client)).not.toContain('extra__echo');
    const refused = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${provider.saved!.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'extra__echo', arguments: {} },
      }),
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="mcp:extra:read"');
    await client.close();
  });

  it('starts a server added again under a removed one’s name off for every app', async () => {
    const toy = nodeBackend(TOY);
    const extra = nodeBackend(TOY, [], { TOY_NAME: 'extra' });
    await using gw = await startGateway({ toy, extra });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'ready');
    const provider = new MemoryOAuthProvider();
    const client = await signIn(gw, provider, ['mcp:toy:read', 'mcp:extra:read']);
    expect(await names(client)).toContain('extra__echo');

    await gw.gateway.reconfigure(servers({ toy }));
    await gw.gateway.reconfigure(servers({ toy, extra }));
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'extra back');
    expect(await names(client)).not.toContain('extra__echo');
    expect(gw.gateway.authorizationServer!.clients()[0]!.scopes).toEqual(['mcp:toy:read']);

    // Disabled is not removed: who may use it is kept for when it is turned on again.
    await gw.gateway.reconfigure(servers({ toy: { ...toy, enabled: false }, extra }));
    expect(gw.gateway.authorizationServer!.clients()[0]!.scopes).toEqual(['mcp:toy:read']);
    await client.close();
  });
});

describe('the per-app access route (PUT /api/clients/:id/scopes)', () => {
  it('refuses bad input naming the field, an unknown app with 404, and an app the owner never approved with 409', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    const provider = new MemoryOAuthProvider();
    const client = await signIn(gw, provider, ['mcp:toy:read']);
    const api = ownerApi(gw);
    const path = `/api/clients/${provider.client!.client_id}/scopes`;

    const refusal = async (body: unknown) => {
      const answer = await api('PUT', path, body);
      expect(answer.status).toBe(400);
      return answer.body.error;
    };
    expect(await refusal({ scopes: 'mcp:toy:read' })).toMatchObject({ code: 'invalid_argument', field: 'scopes' });
    expect(await refusal({})).toMatchObject({ field: 'scopes', message: 'must be a list of scopes' });
    expect(await refusal({ scopes: ['mcp:toy:read', 7] })).toMatchObject({ field: 'scopes[1]' });
    expect(await refusal({ scopes: ['mcp:toy:read', 'mcp:nope:write'] })).toMatchObject({
      field: 'scopes[1]',
      message: expect.stringContaining('"mcp:nope:write" is not a scope of a configured server'),
    });
    expect(await refusal({ scopes: ['*'] })).toMatchObject({ field: 'scopes[0]' });
    expect(await refusal({ scopes: [], extra: true })).toMatchObject({ field: 'extra' });
    expect(await refusal([])).toMatchObject({ field: 'body' });
    // Nothing refused changed the grant.
    expect(gw.gateway.authorizationServer!.clients()[0]!.scopes).toEqual(['mcp:toy:read']);

    const unknown = await api('PUT', '/api/clients/no-such-client/scopes', { scopes: [] });
    expect(unknown).toMatchObject({ status: 404, body: { ok: false, error: { code: 'not_found' } } });

    // Registered, never approved: the route does not let it in behind the owner's consent.
    const registered = (await (
      await fetch(new URL('/register', gw.mcpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Stranger', redirect_uris: ['http://127.0.0.1:50000/cb'] }),
      })
    ).json()) as { client_id: string };
    const stranger = await api('PUT', `/api/clients/${registered.client_id}/scopes`, { scopes: ['mcp:toy:read'] });
    expect(stranger).toMatchObject({ status: 409, body: { ok: false, error: { code: 'conflict' } } });

    // An empty grant is a grant: built-in tools only.
    expect((await api('PUT', path, { scopes: [] })).status).toBe(200);
    expect(await names(client)).toEqual(['whoami', 'find_tools']);
    await client.close();
  });
});
