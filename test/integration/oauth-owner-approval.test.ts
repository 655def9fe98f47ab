import { describe, expect, it } from 'vitest';
import type { PendingConsentView } from '../../src/oauth/server.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { authorizationRequest, ownerSession } from '../helpers/oauth.js';

const REDIRECT = 'http://127.0.0.1:5556/cb';

async function owner(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; value?: unknown } };
}

async function startRequest(gw: RunningGateway) {
  const reg = (await (
    await fetch(new URL('/register', gw.mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Remote Connector' }),
    })
  ).json()) as { client_id: string };
  const { url } = authorizationRequest(gw.mcpUrl, { clientId: reg.client_id, redirectUri: REDIRECT, state: 'w' });
  const html = await (await fetch(url)).text();
  const refresh = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  return { html, wait: new URL(refresh!, gw.mcpUrl) };
}

// The ConsentPrompter port in "owner" mode, as listeners reachable from elsewhere use it: the browser
// waits, the owner decides in the approval list (here through the owner API), the browser continues.
describe('owner approval through the ConsentPrompter port', () => {
  const asked: PendingConsentView[] = [];
  const prompter = { mode: () => 'owner' as const, requested: (r: PendingConsentView) => void asked.push(r) };
  const config = { toy: { command: 'node', args: ['-e', ''] } };

  it('makes the browser wait, then continues with a code once the owner approves', async () => {
    await using gw = await startGateway(config, { maxRestarts: 1 }, { consentPrompter: prompter });
    const { html, wait } = await startRequest(gw);
    expect(html).toContain("Waiting for the owner's approval");
    expect(html).not.toContain('name="csrf"');
    expect(asked.at(-1)).toMatchObject({ clientName: 'Remote Connector', requestedScopes: ['mcp:toy:read'] });

    const stillWaiting = await fetch(wait, { redirect: 'manual' });
    expect(stillWaiting.status).toBe(200);

    const pending = (await owner(gw, 'GET', '/api/consents')).body.value as PendingConsentView[];
    expect(pending.map((p) => p.clientName)).toEqual(['Remote Connector']);
    expect(
      (await owner(gw, 'POST', `/api/consents/${pending[0]!.id}`, { decision: 'approve', scopes: ['mcp:toy:read'] }))
        .status,
    ).toBe(200);

    const done = await fetch(wait, { redirect: 'manual' });
    expect(done.status).toBe(302);
    const location = new URL(done.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('code')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('w');
  });

  it('sends access_denied when the owner denies', async () => {
    await using gw = await startGateway(config, { maxRestarts: 1 }, { consentPrompter: prompter });
    const { wait } = await startRequest(gw);
    const [pending] = (await owner(gw, 'GET', '/api/consents')).body.value as PendingConsentView[];
    await owner(gw, 'POST', `/api/consents/${pending!.id}`, { decision: 'deny', scopes: [] });
    const done = await fetch(wait, { redirect: 'manual' });
    expect(new URL(done.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });

  it('refuses to poll a waiting request without its secret', async () => {
    await using gw = await startGateway(config, { maxRestarts: 1 }, { consentPrompter: prompter });
    const { wait } = await startRequest(gw);
    wait.searchParams.set('token', 'guess');
    expect((await fetch(wait, { redirect: 'manual' })).status).toBe(403);
  });

  it('does not let the consent page decide a request only the approval list may decide, even for the owner', async () => {
    await using gw = await startGateway(config, { maxRestarts: 1 }, { consentPrompter: prompter });
    const { wait } = await startRequest(gw);
    const owner = await ownerSession(gw.gateway);
    const res = await fetch(new URL('/consent', gw.mcpUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...owner.headers() },
      body: new URLSearchParams({
        request_id: wait.searchParams.get('request')!,
        csrf: wait.searchParams.get('token')!,
        decision: 'approve',
        scope: 'mcp:toy:read',
      }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('approval_list_only');
  });
});
