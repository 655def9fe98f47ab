import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startGateway, type RunningGateway } from '../helpers/gateway.js';
import {
  approve,
  authorizationRequest,
  decisionLocation,
  mcpStatus,
  openConsent,
  ownerSession,
  submitConsent,
} from '../helpers/oauth.js';

const REDIRECT = 'http://127.0.0.1:5555/cb';

interface Flow {
  clientId: string;
  verifier: string;
  url: URL;
}

/** A controllable clock shared with the gateway, to step past expiry and grace windows. */
const clock = { offset: 0, now: () => Date.now() + clock.offset };

async function register(gw: RunningGateway, body: Record<string, unknown>) {
  const res = await fetch(new URL('/register', gw.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function client(gw: RunningGateway, redirect = REDIRECT): Promise<string> {
  const { body } = await register(gw, {
    redirect_uris: [redirect],
    client_name: 'Refusal Tester',
    token_endpoint_auth_method: 'none',
  });
  return body.client_id as string;
}

function flow(gw: RunningGateway, clientId: string, overrides: Record<string, string | undefined> = {}): Flow {
  const { url, verifier } = authorizationRequest(gw.mcpUrl, { clientId, redirectUri: REDIRECT, state: 'st' });
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  return { clientId, verifier, url };
}

async function token(gw: RunningGateway, form: Record<string, string>) {
  const res = await fetch(new URL('/token', gw.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

async function codeFor(gw: RunningGateway, f: Flow): Promise<string> {
  return (await approve(f.url, await ownerSession(gw.gateway))).searchParams.get('code')!;
}

async function exchange(gw: RunningGateway, f: Flow, code: string, verifier = f.verifier, clientId = f.clientId) {
  return token(gw, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT,
  });
}

describe('OAuth refusals', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    // The backend only has to exist in the configuration: scopes come from there.
    gw = await startGateway({ toy: { command: 'node', args: ['-e', ''] } }, { maxRestarts: 1 }, { clock });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  describe('registration', () => {
    for (const uri of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'http://example.com/cb']) {
      it(`refuses the redirect URI ${uri}`, async () => {
        const res = await register(gw, { redirect_uris: [uri] });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_redirect_uri');
      });
    }

    it('accepts private-use schemes, https and loopback http, leniently ignoring odd fields', async () => {
      const res = await register(gw, {
        redirect_uris: [
          'cursor://anysphere.cursor-retrieval/oauth/callback',
          'https://claude.ai/api/mcp/auth_callback',
          'http://localhost:1/cb',
        ],
        scope: 'claudeai whatever',
        grant_types: ['authorization_code', 'refresh_token'],
        some_vendor_field: { nested: true },
      });
      expect(res.status).toBe(201);
      expect(res.body.client_secret).toBeUndefined();
    });
  });

  describe('authorization request', () => {
    it('shows an error page (no redirect) for an unknown client', async () => {
      const res = await fetch(flow(gw, 'no-such-client').url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    });

    const mismatches: Record<string, string> = {
      path: 'http://127.0.0.1:5555/other',
      host: 'http://localhost:5555/cb',
      scheme: 'https://127.0.0.1:5555/cb',
      userinfo: 'http://user@127.0.0.1:5555/cb',
      fragment: 'http://127.0.0.1:5555/cb#x',
      'non-loopback http': 'http://example.com/cb',
    };
    for (const [variant, uri] of Object.entries(mismatches)) {
      it(`refuses a redirect URI differing in ${variant}, without redirecting`, async () => {
        const id = await client(gw);
        const res = await fetch(flow(gw, id, { redirect_uri: uri }).url, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      });
    }

    it('lets only the port of a loopback redirect vary', async () => {
      const id = await client(gw);
      const form = await openConsent(flow(gw, id, { redirect_uri: 'http://127.0.0.1:6666/cb' }).url);
      expect(form.requestId).toBeTruthy();
    });

    it('requires PKCE', async () => {
      const res = await fetch(flow(gw, await client(gw), { code_challenge: undefined }).url, { redirect: 'manual' });
      const location = new URL(res.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('iss')).toBe(gw.mcpUrl.origin);
      expect(location.searchParams.get('state')).toBe('st');
    });

    it('refuses the plain PKCE method', async () => {
      const res = await fetch(flow(gw, await client(gw), { code_challenge_method: 'plain' }).url, {
        redirect: 'manual',
      });
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    });

    it('answers an unknown resource with invalid_target', async () => {
      const res = await fetch(flow(gw, await client(gw), { resource: 'http://127.0.0.1:1/mcp' }).url, {
        redirect: 'manual',
      });
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
    });
  });

  describe('consent', () => {
    it('is unframeable, uncached and shows the client and redirect host', async () => {
      const form = await openConsent(flow(gw, await client(gw)).url);
      expect(form.headers.get('x-frame-options')).toBe('DENY');
      expect(form.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(form.headers.get('cache-control')).toBe('no-store');
      expect(form.headers.get('access-control-allow-origin')).toBeNull();
      expect(form.html).toContain('Refusal Tester');
      expect(form.html).toContain('127.0.0.1:5555');
      expect(form.scopes).toEqual([
        { value: 'mcp:toy:read', checked: true },
        { value: 'mcp:toy:write', checked: false },
      ]);
    });

    it("refuses the owner's decision without the CSRF token", async () => {
      const form = await openConsent(flow(gw, await client(gw)).url);
      const res = await submitConsent(form, 'approve', undefined, { csrf: '', owner: await ownerSession(gw.gateway) });
      expect(res.status).toBe(403);
    });

    it("refuses the owner's decision carrying another request's CSRF token", async () => {
      const id = await client(gw);
      const first = await openConsent(flow(gw, id).url);
      const second = await openConsent(flow(gw, id).url);
      const res = await submitConsent(first, 'approve', undefined, {
        csrf: second.csrf,
        owner: await ownerSession(gw.gateway),
      });
      expect(res.status).toBe(403);
    });

    it('sends access_denied when the owner denies', async () => {
      const form = await openConsent(flow(gw, await client(gw)).url);
      const location = await decisionLocation(
        await submitConsent(form, 'deny', undefined, { owner: await ownerSession(gw.gateway) }),
      );
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('iss')).toBe(gw.mcpUrl.origin);
    });

    it('remembers the decision: a returning client continues with it where the owner is signed in, with no choice to make', async () => {
      const id = await client(gw);
      const owner = await ownerSession(gw.gateway);
      const first = await openConsent(flow(gw, id).url);
      const granted = first.scopes.filter((s) => s.checked).map((s) => s.value);
      await decisionLocation(await submitConsent(first, 'approve', undefined, { owner }));
      const again = await openConsent(flow(gw, id).url);
      // The page approves by itself in the owner's browser, the earlier grant ticked.
      expect(again.html).toContain('data-returning="approve"');
      expect(again.scopes.filter((s) => s.checked).map((s) => s.value)).toEqual(granted);
      const location = await decisionLocation(await submitConsent(again, 'approve', undefined, { owner }));
      expect(location.searchParams.get('code')).toBeTruthy();
    });

    it('gives a returning client no code without the owner: a process that knows its id and binds its own loopback port waits', async () => {
      // A gateway of its own, so this request is listed whatever the others here left waiting.
      await using own = await startGateway({ toy: { command: 'node', args: ['-e', ''] } }, { maxRestarts: 1 });
      const id = await client(own);
      await approve(flow(own, id).url, await ownerSession(own.gateway));
      // RFC 8252 §7.3 lets a loopback redirect's port vary, so another local program can pick one.
      const theirs = new URL(REDIRECT);
      theirs.port = '1';
      const { url } = flow(own, id, { redirect_uri: theirs.href });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      const page = await openConsent(url);
      expect(page.userCode).toBeTruthy();
      expect((await submitConsent(page, 'approve')).status).toBe(403);
      // It waits in the owner's list, marked as approved before.
      const pending = own.gateway.authorizationServer!.pendingConsents();
      expect(pending.find((p) => p.userCode === page.userCode)?.returning).toBe(true);
    });
  });

  describe('token endpoint', () => {
    it('refuses a wrong PKCE verifier', async () => {
      const f = flow(gw, await client(gw));
      const res = await exchange(gw, f, await codeFor(gw, f), randomBytes(32).toString('base64url'));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    });

    it('refuses a code presented by another client', async () => {
      const f = flow(gw, await client(gw));
      const other = await client(gw);
      const res = await exchange(gw, f, await codeFor(gw, f), f.verifier, other);
      expect(res.body.error).toBe('invalid_grant');
    });

    it('refuses an unknown client', async () => {
      const res = await token(gw, {
        grant_type: 'authorization_code',
        code: 'x',
        client_id: 'nobody',
        code_verifier: 'x'.repeat(43),
      });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });

    it('refuses a reused code and revokes what the first exchange issued', async () => {
      const f = flow(gw, await client(gw));
      const code = await codeFor(gw, f);
      const first = await exchange(gw, f, code);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toBe('no-store');
      expect(await mcpStatus(gw.mcpUrl, first.body.access_token!)).toBe(200);
      const second = await exchange(gw, f, code);
      expect(second.body.error).toBe('invalid_grant');
      expect(await mcpStatus(gw.mcpUrl, first.body.access_token!)).toBe(401);
      const refresh = await token(gw, {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token!,
        client_id: f.clientId,
      });
      expect(refresh.body.error).toBe('invalid_grant');
    });

    it('refuses a refresh asking for a broader scope', async () => {
      const f = flow(gw, await client(gw));
      const tokens = (await exchange(gw, f, await codeFor(gw, f))).body;
      const res = await token(gw, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: f.clientId,
        scope: 'mcp:toy:read mcp:toy:write',
      });
      expect(res.body.error).toBe('invalid_scope');
    });

    it('accepts a just-rotated refresh token again within the grace window', async () => {
      const f = flow(gw, await client(gw));
      const tokens = (await exchange(gw, f, await codeFor(gw, f))).body;
      const form = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: f.clientId };
      expect((await token(gw, form)).status).toBe(200);
      expect((await token(gw, form)).status).toBe(200);
    });

    it('revokes the whole family when a rotated refresh token comes back after the grace window', async () => {
      const f = flow(gw, await client(gw));
      const tokens = (await exchange(gw, f, await codeFor(gw, f))).body;
      const rotated = (
        await token(gw, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: f.clientId })
      ).body;
      clock.offset += 31_000;
      try {
        const replay = await token(gw, {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token!,
          client_id: f.clientId,
        });
        expect(replay.body.error).toBe('invalid_grant');
        const current = await token(gw, {
          grant_type: 'refresh_token',
          refresh_token: rotated.refresh_token!,
          client_id: f.clientId,
        });
        expect(current.body.error).toBe('invalid_grant');
      } finally {
        clock.offset -= 31_000;
      }
    });
  });

  describe('bearer tokens at /mcp', () => {
    it('refuses an expired access token with invalid_token', async () => {
      const f = flow(gw, await client(gw));
      const tokens = (await exchange(gw, f, await codeFor(gw, f))).body;
      clock.offset += 3_601_000;
      try {
        const res = await fetch(gw.mcpUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain(
          'error="invalid_token", error_description="Token expired"',
        );
      } finally {
        clock.offset -= 3_601_000;
      }
    });

    it('refuses garbage bearers', async () => {
      expect(await mcpStatus(gw.mcpUrl, 'not-a-jwt')).toBe(401);
    });

    it('answers a request without a bearer with 401 naming the metadata and the scopes', async () => {
      const res = await fetch(gw.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer resource_metadata="${gw.mcpUrl.origin}/.well-known/oauth-protected-resource/mcp", scope="mcp:toy:read mcp:toy:write"`,
      );
    });

    it("refuses a session id used with another client's token", async () => {
      const a = flow(gw, await client(gw));
      const b = flow(gw, await client(gw));
      const tokenA = (await exchange(gw, a, await codeFor(gw, a))).body.access_token!;
      const tokenB = (await exchange(gw, b, await codeFor(gw, b))).body.access_token!;
      await using session = await connectClient(gw.mcpUrl, tokenA);
      const res = await fetch(gw.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokenB}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': session.transport.sessionId!,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
    });
  });

  describe('discovery', () => {
    it('serves RFC 8414 metadata with the issuer exactly the origin, and CORS', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const res = await fetch(new URL(path, gw.mcpUrl));
        const body = (await res.json()) as Record<string, unknown>;
        expect(body.issuer).toBe(gw.mcpUrl.origin);
        expect(body.authorization_response_iss_parameter_supported).toBe(true);
        expect(body.token_endpoint_auth_methods_supported).toEqual([
          'none',
          'client_secret_post',
          'client_secret_basic',
        ]);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
      }
    });

    it('serves RFC 9728 metadata naming the MCP URL as the resource, at both paths', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const body = (await (await fetch(new URL(path, gw.mcpUrl))).json()) as Record<string, unknown>;
        expect(body.resource).toBe(gw.mcpUrl.href);
        expect(body.authorization_servers).toEqual([gw.mcpUrl.origin]);
        expect(body.scopes_supported).toEqual(['mcp:toy:read', 'mcp:toy:write']);
      }
    });
  });
});

describe('signing keys and registration limits', () => {
  it('rotates keys on the owner’s request; earlier tokens keep working, new ones use the new key', async () => {
    await using fresh = await startGateway({});
    const before = (await (await fetch(new URL('/jwks.json', fresh.mcpUrl))).json()) as {
      keys: Array<{ kid: string }>;
    };
    const res = await fetch(new URL('/api/keys/rotate', fresh.mcpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${fresh.gateway.ownerToken}` },
    });
    const { kid } = ((await res.json()) as { value: { kid: string } }).value;
    const after = (await (await fetch(new URL('/jwks.json', fresh.mcpUrl))).json()) as { keys: Array<{ kid: string }> };
    expect(after.keys.map((k) => k.kid)).toEqual([kid, ...before.keys.map((k) => k.kid)]);
    expect(await mcpStatus(fresh.mcpUrl, fresh.token)).toBe(200);
    const { token } = await fresh.gateway.createPersonalToken({ name: 'after', scopes: ['*'], ttlSeconds: 60 });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
  });

  it('rate-limits registration on a listener (every local client shares 127.0.0.1)', async () => {
    await using fresh = await startGateway({});
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await register(fresh, { redirect_uris: [REDIRECT] })).status);
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
  });
});

describe('OAuth across a restart', () => {
  it('refreshes after a restart, and the old access token still verifies', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-restart-'));
    const first = await startGateway({}, {}, { dataDir });
    const port = first.address.port;
    const f = flow(first, await client(first), { scope: undefined });
    const tokens = (await exchange(first, f, await codeFor(first, f))).body;
    await first[Symbol.asyncDispose]();

    await using second = await startGateway({}, { port }, { dataDir });
    expect(await mcpStatus(second.mcpUrl, tokens.access_token!)).toBe(200);
    const refreshed = await token(second, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: f.clientId,
    });
    expect(refreshed.status).toBe(200);
    expect(await mcpStatus(second.mcpUrl, refreshed.body.access_token!)).toBe(200);
  });
});
