import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_SESSION_HEADER, type PendingConsentView } from '../../src/api/contract.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import {
  authorizationRequest,
  decisionLocation,
  openConsent,
  ownerSession,
  submitConsent,
  type ConsentForm,
} from '../helpers/oauth.js';

/**
 * Only the owner grants access (issue 9, findings 2, 3, 4, 12, 13): a sign-in is decided by the
 * owner, on the page of a browser signed in to the console or in the approval list; each waiting
 * sign-in carries a code the owner compares; what one requester can put in the list is capped,
 * and the owner's own sign-in always gets through; the form ticks read access at most.
 */

const REDIRECT = 'http://127.0.0.1:5557/cb';
const TOY = { toy: { command: 'node', args: ['-e', ''] }, notes: { command: 'node', args: ['-e', ''] } };

async function register(gw: RunningGateway, name = 'Some App', redirect = REDIRECT): Promise<string> {
  const res = await fetch(new URL('/register', gw.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], client_name: name }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

interface Flow {
  clientId: string;
  verifier: string;
  url: URL;
}

/** An authorization request; `scope: null` names none. */
function flow(gw: RunningGateway, clientId: string, scope: string | null = 'mcp:toy:read'): Flow {
  return { clientId, ...authorizationRequest(gw.mcpUrl, { clientId, redirectUri: REDIRECT, scope, state: 'st' }) };
}

async function owner<T = unknown>(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; value: T } };
}

const pending = async (gw: RunningGateway) =>
  (await owner<PendingConsentView[]>(gw, 'GET', '/api/consents')).body.value;

async function exchange(gw: RunningGateway, f: Flow, code: string) {
  const res = await fetch(new URL('/token', gw.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: f.verifier,
      client_id: f.clientId,
      redirect_uri: REDIRECT,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Denies every waiting request, so a test starts with an empty approval list. */
async function clearList(gw: RunningGateway) {
  for (const request of await pending(gw)) {
    await owner(gw, 'POST', `/api/consents/${request.id}`, { decision: 'deny' });
  }
}

describe('only the owner approves a sign-in (finding 2)', () => {
  let gw: RunningGateway;
  const asked: PendingConsentView[] = [];
  beforeAll(async () => {
    gw = await startGateway(TOY, { maxRestarts: 1 });
    gw.gateway.events.on('consent-requested', (request) => asked.push(request));
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  it('gives no code to a local process that registers, opens the page and posts its CSRF token', async () => {
    const f = flow(gw, await register(gw, 'Self Approver'));
    const form = await openConsent(f.url);
    expect(form.csrf).toBeTruthy();
    const res = await submitConsent(form, 'approve', ['mcp:toy:read', 'mcp:toy:write']);
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    const body = await res.text();
    expect(body).toContain('Only the owner can approve');
    expect(body).not.toContain('code=');
    // The request still waits for the owner, and its page still says so.
    expect((await pending(gw)).map((p) => p.clientId)).toContain(f.clientId);
    const still = await fetch(form.waitUrl!, { redirect: 'manual' });
    expect(still.status).toBe(200);
    await clearList(gw);
  });

  it('refuses a decision whose session header holds no live session', async () => {
    const form = await openConsent(flow(gw, await register(gw)).url);
    const res = await submitConsent(form, 'approve', undefined, {
      owner: { origin: gw.mcpUrl.origin, secret: randomBytes(32).toString('base64url'), headers: () => ({}) },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'owner_required' } });
    await clearList(gw);
  });

  it("refuses the owner's session sent from another port's page", async () => {
    const form = await openConsent(flow(gw, await register(gw)).url);
    const res = await submitConsent(form, 'approve', undefined, {
      owner: await ownerSession(gw.gateway),
      origin: `http://127.0.0.1:${gw.address.port === 1 ? 2 : gw.address.port - 1}`,
    });
    // Refused at the door: a browser Origin must be the gateway's own, port included.
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('Origin not allowed'),
    });
    await clearList(gw);
  });

  it('lets a browser signed in to the console approve on the page, and takes the request off the list', async () => {
    const f = flow(gw, await register(gw, 'Owner App'));
    const form = await openConsent(f.url);
    expect((await pending(gw)).map((p) => p.userCode)).toContain(form.userCode);
    const location = await decisionLocation(
      await submitConsent(form, 'approve', undefined, { owner: await ownerSession(gw.gateway) }),
    );
    expect(location.origin + location.pathname).toBe(REDIRECT);
    const tokens = await exchange(gw, f, location.searchParams.get('code')!);
    expect(tokens).toMatchObject({ status: 200, body: { scope: 'mcp:toy:read' } });
    expect((await pending(gw)).map((p) => p.userCode)).not.toContain(form.userCode);
    // Decided once: the page's request is gone, for the page and for a second decision alike.
    const again = await submitConsent(form, 'approve', undefined, { owner: await ownerSession(gw.gateway) });
    expect(await again.json()).toMatchObject({ ok: false, error: { code: 'expired' } });
  });

  it('lets the owner approve in the approval list; the waiting page then continues with read access only', async () => {
    const f = flow(gw, await register(gw, 'Writer'), 'mcp:toy:write');
    const form = await openConsent(f.url);
    const request = (await pending(gw)).find((p) => p.userCode === form.userCode)!;
    expect(request).toMatchObject({ requestedScopes: ['mcp:toy:write'], suggestedScopes: ['mcp:toy:read'] });
    expect(asked.at(-1)).toMatchObject({ id: request.id, userCode: form.userCode });
    // No scopes chosen: the suggested ones, read access at most.
    expect((await owner(gw, 'POST', `/api/consents/${request.id}`, { decision: 'approve' })).status).toBe(200);
    const done = await fetch(form.waitUrl!, { redirect: 'manual' });
    expect(done.status).toBe(302);
    const code = new URL(done.headers.get('location')!).searchParams.get('code')!;
    expect((await exchange(gw, f, code)).body.scope).toBe('mcp:toy:read');
    // The answer with the code was given once, to the page that polled.
    expect((await fetch(form.waitUrl!, { redirect: 'manual' })).status).toBe(400);
  });

  it('reports each change of the approval list as an event, so the tray recounts without polling', async () => {
    const counts: number[] = [];
    const recount = () => counts.push(gw.gateway.authorizationServer!.pendingConsents().length);
    gw.gateway.events.on('approvals-changed', recount);
    try {
      const form = await openConsent(flow(gw, await register(gw, 'Counted')).url);
      expect(counts).toEqual([1]);
      const request = (await pending(gw)).find((p) => p.userCode === form.userCode)!;
      await owner(gw, 'POST', `/api/consents/${request.id}`, { decision: 'deny' });
      expect(counts.at(-1)).toBe(0);
    } finally {
      gw.gateway.events.off('approvals-changed', recount);
    }
  });

  it('sends the code only to the page holding the request secret', async () => {
    const form = await openConsent(flow(gw, await register(gw)).url);
    const request = (await pending(gw)).find((p) => p.userCode === form.userCode)!;
    await owner(gw, 'POST', `/api/consents/${request.id}`, { decision: 'approve' });
    const guess = new URL(form.waitUrl!);
    guess.searchParams.set('token', randomBytes(24).toString('base64url'));
    const refused = await fetch(guess, { redirect: 'manual' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('location')).toBeNull();
    expect((await fetch(form.waitUrl!, { redirect: 'manual' })).status).toBe(302);
  });
});

describe('approvals name the requester (finding 3)', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(TOY, { maxRestarts: 1 });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  it('shows the code on the waiting page and, with where the request came from, in the approval list', async () => {
    const clientId = await register(gw, 'Claude');
    const res = await fetch(flow(gw, clientId).url, { headers: { 'user-agent': 'Mozilla/5.0 (Owner Browser)' } });
    const html = await res.text();
    const userCode = /id="request-code">([^<]+)</.exec(html)?.[1];
    expect(userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(html).toContain("Waiting for the owner's approval");
    expect(html).toContain('Clients &amp; access');
    expect(html).toContain('cortex-gateway approvals');
    const [view] = await pending(gw);
    expect(view).toEqual({
      id: expect.any(String),
      userCode,
      clientId,
      clientName: 'Claude',
      clientSource: 'dcr',
      clientRegisteredAt: expect.any(Number),
      redirectHost: '127.0.0.1:5557',
      requestedScopes: ['mcp:toy:read'],
      suggestedScopes: ['mcp:toy:read'],
      listener: 'local',
      origin: gw.mcpUrl.origin,
      remoteAddress: '127.0.0.1',
      userAgent: 'Mozilla/5.0 (Owner Browser)',
      createdAt: expect.any(Number),
    });
    await clearList(gw);
  });

  it('gives two look-alike requests different codes', async () => {
    const own = await openConsent(flow(gw, await register(gw, 'Claude')).url);
    const lookAlike = await openConsent(flow(gw, await register(gw, 'Claude')).url);
    expect(own.userCode).not.toBe(lookAlike.userCode);
    const list = await pending(gw);
    expect(list.map((p) => p.clientName)).toEqual(['Claude', 'Claude']);
    expect(list.map((p) => p.userCode).sort()).toEqual([own.userCode, lookAlike.userCode].sort());
    await clearList(gw);
  });

  it('isolates client names in the page with <bdi> (finding 13)', async () => {
    const form = await openConsent(flow(gw, await register(gw, 'שלום Claude')).url);
    expect(form.html).toContain('<bdi class="client">שלום Claude</bdi> asks to use');
    expect(form.html).toContain('Allow <bdi class="client">שלום Claude</bdi> to use your MCP servers?');
    expect(form.html).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    await clearList(gw);
  });
});

describe('the approval list is capped, and the owner still gets through (finding 4)', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(TOY, { maxRestarts: 1 });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  it('lists at most 3 requests of one client; a fourth is served unlisted, and notifies nobody', async () => {
    const asked: PendingConsentView[] = [];
    const listen = (request: PendingConsentView) => asked.push(request);
    gw.gateway.events.on('consent-requested', listen);
    try {
      const clientId = await register(gw, 'Flooder');
      for (let i = 0; i < 3; i++) expect((await openConsent(flow(gw, clientId).url)).userCode).toBeTruthy();
      const fourth = await openConsent(flow(gw, clientId).url);
      expect(fourth.userCode).toBeUndefined();
      expect(fourth.waitUrl).toBeUndefined();
      expect(fourth.html).toContain('Only the owner can approve this request');
      expect(await pending(gw)).toHaveLength(3);
      expect(asked).toHaveLength(3);
    } finally {
      gw.gateway.events.off('consent-requested', listen);
      await clearList(gw);
    }
  });

  it("lists at most 5 from one address, yet the owner's own sign-in is approved on its page", async () => {
    // A flood from this machine: five clients fill what 127.0.0.1 may list, more are unlisted.
    for (let i = 0; i < 8; i++) await openConsent(flow(gw, await register(gw, `Flood ${i}`)).url);
    expect(await pending(gw)).toHaveLength(5);

    const f = flow(gw, await register(gw, 'Claude Code'));
    const form = await openConsent(f.url);
    expect(form.userCode).toBeUndefined();
    expect(form.requestId).toMatch(/^u\./);
    // Nobody but the owner can use it: a plain POST is refused.
    expect((await submitConsent(form, 'approve')).status).toBe(403);
    const location = await decisionLocation(
      await submitConsent(form, 'approve', undefined, { owner: await ownerSession(gw.gateway) }),
    );
    const tokens = await exchange(gw, f, location.searchParams.get('code')!);
    expect(tokens).toMatchObject({ status: 200, body: { scope: 'mcp:toy:read' } });
    // Once decided, the same page cannot decide again.
    const again = await submitConsent(form, 'approve', undefined, { owner: await ownerSession(gw.gateway) });
    expect(await again.json()).toMatchObject({ ok: false, error: { code: 'expired' } });
    await clearList(gw);
  });

  it('refuses an unlisted request whose sealed form was altered', async () => {
    const clientId = await register(gw, 'Tamperer');
    for (let i = 0; i < 3; i++) await openConsent(flow(gw, clientId).url);
    const form: ConsentForm = await openConsent(flow(gw, clientId).url);
    const [tag, payload, mac] = form.requestId.split('.');
    const request = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    request.redirectUri = 'http://127.0.0.1:6666/cb';
    const altered = `${tag}.${Buffer.from(JSON.stringify(request)).toString('base64url')}.${mac}`;
    const res = await submitConsent(form, 'approve', undefined, {
      owner: await ownerSession(gw.gateway),
      requestId: altered,
    });
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'expired' } });
    await clearList(gw);
  });
});

describe('the consent form ticks read access at most (finding 12)', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(TOY, { maxRestarts: 1 });
  });
  afterAll(async () => {
    await clearList(gw);
    await gw[Symbol.asyncDispose]();
  });

  it('ticks every read scope, and no write scope, when the client names none', async () => {
    const form = await openConsent(flow(gw, await register(gw), null).url);
    expect([...form.scopes].sort((a, b) => a.value.localeCompare(b.value))).toEqual([
      { value: 'mcp:notes:read', checked: true },
      { value: 'mcp:notes:write', checked: false },
      { value: 'mcp:toy:read', checked: true },
      { value: 'mcp:toy:write', checked: false },
    ]);
  });

  it('ticks the read scope in place of a write scope asked for', async () => {
    const form = await openConsent(flow(gw, await register(gw), 'mcp:notes:write').url);
    expect(form.scopes.filter((s) => s.checked).map((s) => s.value)).toEqual(['mcp:notes:read']);
    const [request] = (await pending(gw)).filter((p) => p.userCode === form.userCode);
    expect(request!.suggestedScopes).toEqual(['mcp:notes:read']);
  });

  it('grants write access when the owner ticks it', async () => {
    const f = flow(gw, await register(gw), 'mcp:toy:write');
    const form = await openConsent(f.url);
    const location = await decisionLocation(
      await submitConsent(form, 'approve', ['mcp:toy:write'], { owner: await ownerSession(gw.gateway) }),
    );
    expect((await exchange(gw, f, location.searchParams.get('code')!)).body.scope).toBe('mcp:toy:write');
  });
});

describe('listeners reachable from elsewhere use the approval list only', () => {
  for (const [why, settings] of [
    ['with allowedHosts', { allowedHosts: ['gateway.example.test'] }],
    ['bound to a non-loopback address', { host: '0.0.0.0' }],
  ] as const) {
    it(`${why}: no form on the page, and the owner's session cannot decide there`, async () => {
      await using gw = await startGateway(TOY, { maxRestarts: 1, ...settings });
      const f = flow(gw, await register(gw));
      const form = await openConsent(f.url);
      expect(form.userCode).toBeTruthy();
      expect(form.csrf).toBe('');
      expect(form.html).not.toContain('<script');
      const wait = form.waitUrl!;
      const session = await ownerSession(gw.gateway);
      const res = await fetch(form.action, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: gw.mcpUrl.origin,
          [CONSOLE_SESSION_HEADER]: session.secret,
        },
        body: new URLSearchParams({
          request_id: wait.searchParams.get('request')!,
          csrf: wait.searchParams.get('token')!,
          decision: 'approve',
        }),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: 'approval_list_only' } });

      const [request] = await pending(gw);
      expect(request!.userCode).toBe(form.userCode);
      await owner(gw, 'POST', `/api/consents/${request!.id}`, { decision: 'approve' });
      const done = await fetch(wait, { redirect: 'manual' });
      expect(done.status).toBe(302);
      expect(new URL(done.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    });
  }
});

describe('the consent page script', () => {
  it('is served from the gateway itself, and the pages allow no other script', async () => {
    await using gw = await startGateway(TOY, { maxRestarts: 1 });
    const form = await openConsent(flow(gw, await register(gw)).url);
    expect(form.html).toContain('<script src="/consent.js" defer></script>');
    expect(form.html).not.toMatch(/<script(?! src="\/consent\.js")/);
    expect(form.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = await fetch(new URL('/consent.js', gw.mcpUrl));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await script.text()).toContain('"cortex.console.session"');
  });
});
