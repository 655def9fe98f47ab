import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CONSOLE_SESSION_HEADER, type PendingConsentView, type TunnelStatus } from '../../src/api/contract.js';
import { authorizationRequest, ownerSession } from '../helpers/oauth.js';
import {
  CLI,
  isAlive,
  nodeBackend,
  ROOT,
  startGateway,
  TOY,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const FAKE = join(ROOT, 'test/fixtures/fake-cloudflared.mjs');
const FAKE_NGROK = join(ROOT, 'test/fixtures/fake-ngrok.mjs');
const CLAUDE_AI = 'https://claude.ai/api/mcp/auth_callback';
const CLAUDE_COM = 'https://claude.com/api/mcp/auth_callback';

/** What the fake cloudflared reports about itself. */
interface FakeInfo {
  pid: number;
  url: string;
  forwardPort: number;
  target: string;
  args: string[];
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let bin: string;
let state: string;
let emptyBin: string;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), 'cortex-cloudflared-'));
  state = await mkdtemp(join(tmpdir(), 'cortex-cloudflared-state-'));
  emptyBin = await mkdtemp(join(tmpdir(), 'cortex-nobin-'));
  // An executable named cloudflared on PATH, as the user would have it.
  await writeFile(join(bin, 'cloudflared'), `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`);
  await chmod(join(bin, 'cloudflared'), 0o755);
  await writeFile(join(bin, 'ngrok'), `#!/bin/sh\nexec "${process.execPath}" "${FAKE_NGROK}" "$@"\n`);
  await chmod(join(bin, 'ngrok'), 0o755);
});

afterAll(async () => {
  for (const dir of [bin, state, emptyBin]) await rm(dir, { recursive: true, force: true });
});

function fakeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, FAKE_CLOUDFLARED_DIR: state, ...extra };
}

async function fakeInfo(publicUrl: string): Promise<FakeInfo> {
  return waitFor(async () => {
    for (const file of await readdir(state)) {
      const info = JSON.parse(await readFile(join(state, file), 'utf8')) as FakeInfo;
      if (info.url === publicUrl) return info;
    }
    return undefined;
  }, `fake cloudflared for ${publicUrl}`);
}

/** A request as it comes out of the tunnel: to the fake's forward port, with the public Host. */
function viaTunnel(
  info: FakeInfo,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: info.forwardPort,
        path,
        method: init.method ?? 'GET',
        agent: false,
        headers: { host: init.host ?? new URL(info.url).host, ...init.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

async function owner(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { ok: boolean; value?: unknown; error?: { code: string; message: string } },
  };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-ai', version: '1' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** claude.ai's side of the flow, through the tunnel: register, authorize, and the waiting page. */
async function beginAuthorization(info: FakeInfo, redirect = CLAUDE_AI, headers: Record<string, string> = {}) {
  const reg = await viaTunnel(info, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [CLAUDE_AI, CLAUDE_COM], client_name: 'Claude', scope: 'claudeai' }),
  });
  expect(reg.status).toBe(201);
  const clientId = (JSON.parse(reg.body) as { client_id: string }).client_id;
  return authorizeAgain(info, clientId, redirect, headers);
}

/** The browser's address as the tunnel provider reports it (it appends to X-Forwarded-For). */
const from = (address: string) => ({ 'x-forwarded-for': address });

async function authorizeAgain(
  info: FakeInfo,
  clientId: string,
  redirect = CLAUDE_AI,
  headers: Record<string, string> = {},
) {
  const { url, verifier } = authorizationRequest(info.url, { clientId, redirectUri: redirect, state: 'st-1' });
  url.searchParams.set('resource', `${info.url}/mcp`);
  const page = await viaTunnel(info, `${url.pathname}${url.search}`, { headers });
  const wait = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
  const userCode = /id="request-code">([^<]+)</.exec(page.body)?.[1];
  return { clientId, verifier, page, wait, userCode, redirect };
}

async function pendingFor(gw: RunningGateway, clientId: string): Promise<PendingConsentView> {
  const list = (await owner(gw, 'GET', '/api/consents')).body.value as PendingConsentView[];
  const found = list.find((p) => p.clientId === clientId);
  if (!found) throw new Error(`no pending request for ${clientId}`);
  return found;
}

describe('public tunnel (cloudflared quick tunnel, faked on PATH)', () => {
  let gw: RunningGateway;
  let tunnel: TunnelStatus;
  let info: FakeInfo;
  const states: TunnelStatus[] = [];

  beforeAll(async () => {
    gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { env: fakeEnv() });
    gw.gateway.events.on('tunnel-state', (s) => states.push(s));
    tunnel = await gw.gateway.tunnel.start();
    info = await fakeInfo(tunnel.publicUrl!);
  });
  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  it('starts cloudflared from PATH towards a dedicated loopback listener and reports the public URL', () => {
    expect(tunnel).toMatchObject({ provider: 'cloudflare', state: 'running', restartCount: 0 });
    expect(tunnel.publicUrl).toMatch(/^https:\/\/[a-z0-9-]+\.trycloudflare\.com$/);
    expect(tunnel.mcpUrl).toBe(`${tunnel.publicUrl}/mcp`);
    expect(info.args.slice(0, 2)).toEqual(['tunnel', '--no-autoupdate']);
    const target = new URL(info.target);
    expect(target.hostname).toBe('127.0.0.1');
    expect(Number(target.port)).not.toBe(gw.address.port);
    expect(states.map((s) => s.state)).toEqual(['starting', 'running']);
  });

  it('shows the tunnel on the owner API', async () => {
    const res = await owner(gw, 'GET', '/api/tunnel');
    expect(res.body.value).toMatchObject({ state: 'running', publicUrl: tunnel.publicUrl, mcpUrl: tunnel.mcpUrl });
  });

  it.each([
    '/api/consents',
    '/api/tunnel',
    '/API/consents',
    '/api/backends',
    '/app/',
    '/app/login?token=x',
    '/healthz',
    '/',
  ])('refuses %s through the tunnel, even with the owner token', async (path) => {
    const res = await viaTunnel(info, path, { headers: { authorization: `Bearer ${gw.gateway.ownerToken}` } });
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('"ok":true');
  });

  it('refuses a Host other than the public one on the tunnel listener', async () => {
    expect((await viaTunnel(info, '/mcp', { host: 'evil.example' })).status).toBe(403);
    expect((await viaTunnel(info, '/mcp', { host: `127.0.0.1:${gw.address.port}` })).status).toBe(403);
  });

  it('serves authorization server metadata with the public URL', async () => {
    const res = await viaTunnel(info, '/.well-known/oauth-authorization-server');
    const meta = JSON.parse(res.body) as Record<string, string>;
    expect(meta.issuer).toBe(tunnel.publicUrl);
    expect(meta).toMatchObject({
      authorization_endpoint: `${tunnel.publicUrl}/authorize`,
      token_endpoint: `${tunnel.publicUrl}/token`,
      registration_endpoint: `${tunnel.publicUrl}/register`,
      revocation_endpoint: `${tunnel.publicUrl}/revoke`,
      jwks_uri: `${tunnel.publicUrl}/jwks.json`,
    });
  });

  it('serves protected resource metadata with the public resource', async () => {
    const res = await viaTunnel(info, '/.well-known/oauth-protected-resource/mcp');
    expect(JSON.parse(res.body)).toMatchObject({
      resource: `${tunnel.publicUrl}/mcp`,
      authorization_servers: [tunnel.publicUrl],
    });
  });

  it('challenges /mcp with the public metadata URL', async () => {
    const res = await viaTunnel(info, '/mcp', { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain(
      `resource_metadata="${tunnel.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('answers a CORS preflight on /mcp from https://claude.ai', async () => {
    const res = await viaTunnel(info, '/mcp', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://claude.ai',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://claude.ai');
    expect(res.headers['access-control-allow-headers']).toContain('authorization');
  });

  it('refuses /mcp from another browser origin', async () => {
    const res = await viaTunnel(info, '/mcp', {
      method: 'POST',
      headers: { ...MCP_HEADERS, origin: 'https://evil.example' },
      body: INITIALIZE,
    });
    expect(res.status).toBe(403);
  });

  it('registers claude.ai and claude.com callbacks', async () => {
    const res = await viaTunnel(info, '/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://claude.ai' },
      body: JSON.stringify({
        redirect_uris: [CLAUDE_AI, CLAUDE_COM],
        client_name: 'Claude',
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'claudeai',
      }),
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ redirect_uris: [CLAUDE_AI, CLAUDE_COM] });
  });

  it('makes an authorization through the tunnel wait for the owner', async () => {
    const { page, wait, clientId } = await beginAuthorization(info);
    expect(page.status).toBe(200);
    expect(page.body).toContain("Waiting for the owner's approval");
    expect(page.body).not.toContain('name="csrf"');
    expect(page.body).not.toContain('<script');
    expect(wait).toBeTruthy();
    expect((await viaTunnel(info, wait!)).status).toBe(200);
    expect((await pendingFor(gw, clientId)).redirectHost).toBe('claude.ai');
  });

  it("shows the owner the request's code, and that it came through the tunnel from the browser's address", async () => {
    const flow = await beginAuthorization(info, CLAUDE_AI, {
      ...from('198.51.100.23'),
      'user-agent': 'Mozilla/5.0 (claude.ai sign-in)',
    });
    expect(flow.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(await pendingFor(gw, flow.clientId)).toMatchObject({
      userCode: flow.userCode,
      listener: 'tunnel',
      origin: tunnel.publicUrl,
      remoteAddress: '198.51.100.23',
      userAgent: 'Mozilla/5.0 (claude.ai sign-in)',
      clientSource: 'dcr',
      clientRegisteredAt: expect.any(Number),
    });
    const pending = await pendingFor(gw, flow.clientId);
    await owner(gw, 'POST', `/api/consents/${pending.id}`, { decision: 'deny' });
  });

  it("refuses a decision on the page through the tunnel, even with the owner's console session", async () => {
    const flow = await beginAuthorization(info);
    const wait = new URL(flow.wait!, tunnel.publicUrl);
    const session = await ownerSession(gw.gateway);
    const res = await viaTunnel(info, '/consent', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: tunnel.publicUrl!,
        [CONSOLE_SESSION_HEADER]: session.secret,
      },
      body: new URLSearchParams({
        request_id: wait.searchParams.get('request')!,
        csrf: wait.searchParams.get('token')!,
        decision: 'approve',
        scope: 'mcp:toy:read',
      }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    // Still waiting for the owner's decision in the approval list.
    expect((await viaTunnel(info, flow.wait!)).status).toBe(200);
    expect((await pendingFor(gw, flow.clientId)).userCode).toBe(flow.userCode);
  });

  it('completes once the owner approves, with a token bound to the public URL', async () => {
    const flow = await beginAuthorization(info);
    const pending = await pendingFor(gw, flow.clientId);
    const decided = await owner(gw, 'POST', `/api/consents/${pending.id}`, {
      decision: 'approve',
      scopes: ['mcp:toy:read'],
    });
    expect(decided.status).toBe(200);

    const done = await viaTunnel(info, flow.wait!);
    expect(done.status).toBe(302);
    const location = new URL(String(done.headers.location));
    expect(location.origin + location.pathname).toBe(CLAUDE_AI);
    expect(location.searchParams.get('iss')).toBe(tunnel.publicUrl);
    expect(location.searchParams.get('state')).toBe('st-1');

    const token = await viaTunnel(info, '/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: location.searchParams.get('code')!,
        redirect_uri: CLAUDE_AI,
        client_id: flow.clientId,
        code_verifier: flow.verifier,
      }).toString(),
    });
    expect(token.status).toBe(200);
    const accessToken = (JSON.parse(token.body) as { access_token: string }).access_token;
    expect(claims(accessToken)).toMatchObject({ iss: tunnel.publicUrl, aud: `${tunnel.publicUrl}/mcp` });

    const mcp = await viaTunnel(info, '/mcp', {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${accessToken}` },
      body: INITIALIZE,
    });
    expect(mcp.status).toBe(200);
    expect(mcp.headers['mcp-session-id']).toBeTruthy();

    // The same token is for the public resource only: the local listener refuses it.
    const local = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${accessToken}` },
      body: INITIALIZE,
    });
    expect(local.status).toBe(401);
    expect(local.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('asks the owner again for a client approved before (a remembered consent is not enough here)', async () => {
    const first = await beginAuthorization(info);
    const pending = await pendingFor(gw, first.clientId);
    await owner(gw, 'POST', `/api/consents/${pending.id}`, { decision: 'approve', scopes: ['mcp:toy:read'] });
    expect((await viaTunnel(info, first.wait!)).status).toBe(302);

    const again = await authorizeAgain(info, first.clientId);
    expect(again.page.status).toBe(200);
    expect(again.page.body).toContain("Waiting for the owner's approval");
  });

  it('sends access_denied to the redirect when the owner denies', async () => {
    const flow = await beginAuthorization(info, CLAUDE_COM);
    const pending = await pendingFor(gw, flow.clientId);
    await owner(gw, 'POST', `/api/consents/${pending.id}`, { decision: 'deny', scopes: [] });
    const done = await viaTunnel(info, flow.wait!);
    expect(done.status).toBe(302);
    const location = new URL(String(done.headers.location));
    expect(location.origin + location.pathname).toBe(CLAUDE_COM);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('refuses a token minted for the local origin through the tunnel', async () => {
    const res = await viaTunnel(info, '/mcp', {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${gw.token}` },
      body: INITIALIZE,
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  });

  it('still accepts the local token on the local listener', async () => {
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${gw.token}` },
      body: INITIALIZE,
    });
    expect(res.status).toBe(200);
  });
});

describe("ngrok provider (the user's ngrok agent, faked on PATH)", () => {
  it('runs ngrok http towards the tunnel listener and serves the public URL from it', async () => {
    await using gw = await startGateway(
      {},
      { tunnel: { provider: 'ngrok' } },
      { env: fakeEnv({ NGROK_AUTHTOKEN: 'test-token' }) },
    );
    const status = await gw.gateway.tunnel.start();
    expect(status).toMatchObject({ provider: 'ngrok', state: 'running' });
    expect(status.publicUrl).toMatch(/^https:\/\/[a-z0-9-]+\.ngrok-free\.app$/);
    const info = await fakeInfo(status.publicUrl!);
    expect(info.args).toEqual([
      'http',
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      '--log',
      'stdout',
      '--log-format',
      'json',
    ]);
    const meta = await viaTunnel(info, '/.well-known/oauth-protected-resource/mcp');
    expect(JSON.parse(meta.body)).toMatchObject({ resource: `${status.publicUrl}/mcp` });
    expect((await viaTunnel(info, '/api/consents')).status).toBe(404);
  });

  it('comes up on the fixed domain from the config, so the public URL survives restarts', async () => {
    const settings = { tunnel: { provider: 'ngrok', domain: 'cortex-test.ngrok-free.dev' } };
    const env = fakeEnv({ NGROK_AUTHTOKEN: 'test-token' });
    for (let run = 0; run < 2; run++) {
      await using gw = await startGateway({}, settings, { env });
      const status = await gw.gateway.tunnel.start();
      expect(status.mcpUrl).toBe('https://cortex-test.ngrok-free.dev/mcp');
      // Both runs announce the same URL: the info to use is the live agent's.
      const info = await waitFor(async () => {
        for (const file of await readdir(state)) {
          const found = JSON.parse(await readFile(join(state, file), 'utf8')) as FakeInfo;
          if (found.url === status.publicUrl && isAlive(found.pid)) return found;
        }
        return undefined;
      }, 'the running fake ngrok');
      expect(info.args).toContain('--domain=cortex-test.ngrok-free.dev');
      const meta = await viaTunnel(info, '/.well-known/oauth-authorization-server');
      expect(JSON.parse(meta.body)).toMatchObject({ issuer: 'https://cortex-test.ngrok-free.dev' });
    }
  });

  it('refuses a fixed domain for a Cloudflare quick tunnel, naming the field', () => {
    expect(() =>
      parseConfig({ mcpServers: {}, gateway: { tunnel: { domain: 'cortex-test.ngrok-free.dev' } } }),
    ).toThrow(
      expect.objectContaining({
        field: 'gateway.tunnel.domain',
        message: expect.stringMatching(/^config: needs "provider": "ngrok"/),
      }),
    );
    expect(() =>
      parseConfig({ mcpServers: {}, gateway: { tunnel: { provider: 'ngrok', domain: 'https://x.dev/' } } }),
    ).toThrow(
      expect.objectContaining({
        field: 'gateway.tunnel.domain',
        message: expect.stringMatching(/^config: must be a host name/),
      }),
    );
  });

  it("fails with the agent's own error without an authtoken", async () => {
    const env = fakeEnv();
    delete env.NGROK_AUTHTOKEN;
    await using gw = await startGateway({}, { tunnel: { provider: 'ngrok' } }, { env });
    const status = await gw.gateway.tunnel.start();
    expect(status.state).toBe('failed');
    expect(status.lastError).toContain('authentication failed');
  });
});

describe('sign-ins flooding through the tunnel', () => {
  const listed = async (gw: RunningGateway) =>
    ((await owner(gw, 'GET', '/api/consents')).body.value as PendingConsentView[]).length;

  it('lists at most 3 per client and 5 per address; a sign-in from another address is still listed', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { env: fakeEnv() });
    const asked: PendingConsentView[] = [];
    gw.gateway.events.on('consent-requested', (request) => asked.push(request));
    const info = await fakeInfo((await gw.gateway.tunnel.start()).publicUrl!);
    const attacker = from('198.51.100.66');
    const first = await beginAuthorization(info, CLAUDE_AI, attacker);
    for (let i = 1; i < 3; i++) {
      expect((await authorizeAgain(info, first.clientId, CLAUDE_AI, attacker)).page.status).toBe(200);
    }
    const perClient = await authorizeAgain(info, first.clientId, CLAUDE_AI, attacker);
    expect(perClient.page.status).toBe(429);
    expect(perClient.page.body).toContain('Too many sign-ins waiting');
    // Other clients from the same address: two more are listed, then that address is full.
    expect((await beginAuthorization(info, CLAUDE_AI, attacker)).page.status).toBe(200);
    expect((await beginAuthorization(info, CLAUDE_AI, attacker)).page.status).toBe(200);
    expect((await beginAuthorization(info, CLAUDE_AI, attacker)).page.status).toBe(429);
    expect(await listed(gw)).toBe(5);
    expect(asked).toHaveLength(5);

    // The owner's own sign-in, from their browser's address, is listed and can be approved.
    const own = await beginAuthorization(info, CLAUDE_AI, from('203.0.113.7'));
    expect(own.page.status).toBe(200);
    const pending = await pendingFor(gw, own.clientId);
    expect(pending.userCode).toBe(own.userCode);
    await owner(gw, 'POST', `/api/consents/${pending.id}`, { decision: 'approve' });
    expect((await viaTunnel(info, own.wait!)).status).toBe(302);
  });

  it('refuses more than 20 waiting at once, and accepts again once the owner decides one', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { env: fakeEnv() });
    const info = await fakeInfo((await gw.gateway.tunnel.start()).publicUrl!);
    // Six clients from six addresses with three each, and a seventh with two: 20 in all.
    const flows = [];
    for (let i = 0; i < 7; i++) {
      const address = from(`198.51.100.${i + 1}`);
      const flow = await beginAuthorization(info, CLAUDE_AI, address);
      flows.push(flow);
      for (let j = 0; j < (i < 6 ? 2 : 1); j++) {
        expect((await authorizeAgain(info, flow.clientId, CLAUDE_AI, address)).page.status).toBe(200);
      }
    }
    expect(await listed(gw)).toBe(20);
    const refused = await beginAuthorization(info, CLAUDE_AI, from('203.0.113.99'));
    expect(refused.page.status).toBe(429);

    const pending = await pendingFor(gw, flows[0]!.clientId);
    await owner(gw, 'POST', `/api/consents/${pending.id}`, { decision: 'deny', scopes: [] });
    expect((await authorizeAgain(info, refused.clientId, CLAUDE_AI, from('203.0.113.99'))).page.status).toBe(200);
  });

  it("never prints the owner's CLI path on a page anyone can open", async () => {
    const cliCommand = 'node /home/owner-name/src/cortex/dist/cortex-gateway.mjs';
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { env: fakeEnv(), cliCommand });
    const info = await fakeInfo((await gw.gateway.tunnel.start()).publicUrl!);
    const flow = await beginAuthorization(info);
    expect(flow.page.body).toContain('cortex-gateway approvals');
    expect(flow.page.body).not.toContain('/home/owner-name');
  });
});

describe('registrations flooding through the tunnel', () => {
  it('hit their own limit; clients on this machine still register', async () => {
    await using gw = await startGateway({}, {}, { env: fakeEnv() });
    const info = await fakeInfo((await gw.gateway.tunnel.start()).publicUrl!);
    const body = JSON.stringify({ redirect_uris: [CLAUDE_AI], client_name: 'flood' });
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push(
        (await viaTunnel(info, '/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body }))
          .status,
      );
    }
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expect(statuses[30]).toBe(429);
    const local = await fetch(new URL('/register', gw.mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:8765/callback'], client_name: 'Claude Code' }),
    });
    expect(local.status).toBe(201);
  });
});

describe('tunnel supervision', () => {
  it('restarts cloudflared when it dies and announces the new URL', async () => {
    await using gw = await startGateway({}, {}, { env: fakeEnv() });
    const first = await gw.gateway.tunnel.start();
    const firstInfo = await fakeInfo(first.publicUrl!);
    process.kill(firstInfo.pid, 'SIGKILL');
    const next = await waitFor(() => {
      const s = gw.gateway.tunnel.status();
      return s.state === 'running' && s.publicUrl !== first.publicUrl ? s : undefined;
    }, 'the tunnel to come back');
    expect(next.restartCount).toBe(1);
    const nextInfo = await fakeInfo(next.publicUrl!);
    const meta = await viaTunnel(nextInfo, '/.well-known/oauth-authorization-server');
    expect((JSON.parse(meta.body) as { issuer: string }).issuer).toBe(next.publicUrl);
    // The old public name is no longer this gateway's.
    expect((await viaTunnel(nextInfo, '/mcp', { host: new URL(first.publicUrl!).host })).status).toBe(403);
  });

  it('kills cloudflared when the gateway stops (no orphan)', async () => {
    const gw = await startGateway({}, {}, { env: fakeEnv() });
    const status = await gw.gateway.tunnel.start();
    const { pid } = await fakeInfo(status.publicUrl!);
    expect(isAlive(pid)).toBe(true);
    await gw[Symbol.asyncDispose]();
    expect(isAlive(pid)).toBe(false);
  });

  it('stopping while cloudflared is still starting ends it at once, as stopped', async () => {
    const gw = await startGateway({}, {}, { env: fakeEnv({ FAKE_CLOUDFLARED_DELAY_MS: '20000' }) });
    const before = new Set(await readdir(state));
    const starting = gw.gateway.tunnel.start();
    const marker = await waitFor(
      async () => (await readdir(state)).find((f) => f.endsWith('.starting.json') && !before.has(f)),
      'cloudflared to be spawned',
    );
    const began = Date.now();
    await gw[Symbol.asyncDispose]();
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(await starting).toMatchObject({ state: 'stopped' });
    expect(isAlive(Number(marker.split('.')[0]))).toBe(false);
  });

  it('stops through the owner API and closes the tunnel listener', async () => {
    await using gw = await startGateway({}, {}, { env: fakeEnv() });
    const started = await owner(gw, 'POST', '/api/tunnel');
    const status = started.body.value as TunnelStatus;
    expect(status.state).toBe('running');
    const info = await fakeInfo(status.publicUrl!);
    const stopped = await owner(gw, 'DELETE', '/api/tunnel');
    expect(stopped.body.value).toMatchObject({ state: 'stopped' });
    expect(isAlive(info.pid)).toBe(false);
    const port = Number(new URL(info.target).port);
    await expect(fetch(`http://127.0.0.1:${port}/mcp`)).rejects.toThrow();
  });

  it('fails with a clear reason when cloudflared is not installed', async () => {
    await using gw = await startGateway({}, {}, { env: { ...process.env, PATH: emptyBin } });
    const res = await owner(gw, 'POST', '/api/tunnel');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'tunnel_failed' });
    expect(res.body.error!.message).toContain('cloudflared was not found on PATH');
    expect(gw.gateway.tunnel.status().state).toBe('failed');
  });

  it("fails with cloudflared's own error when it cannot get a tunnel", async () => {
    await using gw = await startGateway({}, {}, { env: fakeEnv({ FAKE_CLOUDFLARED_MODE: 'fail' }) });
    const status = await gw.gateway.tunnel.start();
    expect(status.state).toBe('failed');
    expect(status.lastError).toContain('failed to request quick Tunnel');
  });

  it('starts by itself with gateway.tunnel.autostart', async () => {
    await using gw = await startGateway({}, { tunnel: { autostart: true } }, { env: fakeEnv() });
    const status = await waitFor(
      () => (gw.gateway.tunnel.status().state === 'running' ? gw.gateway.tunnel.status() : undefined),
      'autostarted tunnel',
    );
    expect(status.publicUrl).toMatch(/trycloudflare\.com$/);
  });

  it('uses gateway.tunnel.cloudflaredPath when PATH has none', async () => {
    await using gw = await startGateway(
      {},
      { tunnel: { cloudflaredPath: join(bin, 'cloudflared') } },
      { env: { ...process.env, PATH: emptyBin, FAKE_CLOUDFLARED_DIR: state } },
    );
    expect((await gw.gateway.tunnel.start()).state).toBe('running');
  });
});

describe('CLI: serve --tunnel and approvals', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let stdout = '';
  let publicMcpUrl: string;
  let info: FakeInfo;

  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const c = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--data-dir', join(dir, 'data')], {
        env: fakeEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      c.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      c.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      c.on('close', (code) => resolvePromise({ code, stdout: out, stderr: err }));
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-cli-tunnel-'));
    const config = join(dir, 'cortex.config.json');
    await writeFile(config, JSON.stringify({ mcpServers: { toy: nodeBackend(TOY) } }));
    const ready = join(dir, 'ready.json');
    child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'serve', '--tunnel', '--config', config, '--data-dir', join(dir, 'data')].concat([
        '--port',
        '0',
        '--ready-file',
        ready,
        '--log-level',
        'warn',
      ]),
      { env: fakeEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    publicMcpUrl = (
      await waitFor(
        async () => JSON.parse(await readFile(ready, 'utf8')) as { publicMcpUrl?: string },
        `ready file (stderr: ${stderr})`,
        30_000,
      )
    ).publicMcpUrl!;
    await waitFor(() => stdout.includes('Press Ctrl-C'), 'the banner');
    info = await fakeInfo(publicMcpUrl.replace(/\/mcp$/, ''));
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the public MCP URL when the tunnel is up', () => {
    expect(publicMcpUrl).toMatch(/^https:\/\/[a-z0-9-]+\.trycloudflare\.com\/mcp$/);
    expect(stdout).toContain(`Public URL:   ${publicMcpUrl}`);
  });

  it('lists a waiting sign-in with its code and lets "approvals approve CODE" through with read access', async () => {
    const flow = await beginAuthorization(info);
    await waitFor(() => stdout.includes(`code ${flow.userCode}`), 'the approval notice');
    expect(stdout).toContain('Approval needed: Claude (returns to claude.ai, through the tunnel)');
    const listed = await run(['approvals']);
    expect(listed.code).toBe(0);
    const id = new RegExp(`^(\\S+)  Claude \\(returns to claude.ai\\)`, 'm').exec(listed.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(listed.stdout).toContain(`code: ${flow.userCode}`);
    expect(listed.stdout).toContain(`via the public tunnel (${publicMcpUrl.replace(/\/mcp$/, '')}) from 127.0.0.1`);
    expect(listed.stdout).toContain('client: registered through /register');
    expect(listed.stdout).toContain('asks for: mcp:toy:read');

    // The owner types the code their sign-in page shows, in any case.
    const approved = await run(['approvals', 'approve', flow.userCode!.toLowerCase()]);
    expect(approved).toMatchObject({ code: 0 });
    expect(approved.stdout).toContain('with mcp:toy:read');
    const done = await viaTunnel(info, flow.wait!);
    expect(done.status).toBe(302);
    expect(new URL(String(done.headers.location)).searchParams.get('code')).toBeTruthy();
  });

  it('"approvals deny" sends access_denied', async () => {
    const flow = await beginAuthorization(info);
    const list = JSON.parse((await run(['approvals', 'list', '--json'])).stdout) as PendingConsentView[];
    const pending = list.find((p) => p.clientId === flow.clientId)!;
    expect((await run(['approvals', 'deny', pending.id])).code).toBe(0);
    const done = await viaTunnel(info, flow.wait!);
    expect(new URL(String(done.headers.location)).searchParams.get('error')).toBe('access_denied');
  });

  it('"approvals approve" asks for --scope when the sign-in names none, then grants exactly those', async () => {
    const reg = await viaTunnel(info, '/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [CLAUDE_AI], client_name: 'Scopeless' }),
    });
    const clientId = (JSON.parse(reg.body) as { client_id: string }).client_id;
    const { url, verifier } = authorizationRequest(info.url, { clientId, redirectUri: CLAUDE_AI, scope: null });
    const page = await viaTunnel(info, `${url.pathname}${url.search}`);
    const wait = /content="2;url=([^"]+)"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
    const list = JSON.parse((await run(['approvals', 'list', '--json'])).stdout) as PendingConsentView[];
    const pending = list.find((p) => p.clientId === clientId)!;

    const refused = await run(['approvals', 'approve', pending.id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('names no scope; choose with --scope (available: mcp:toy:read mcp:toy:write)');

    const approved = await run(['approvals', 'approve', pending.id, '--scope', 'mcp:toy:read']);
    expect(approved.code).toBe(0);
    const done = await viaTunnel(info, wait);
    const code = new URL(String(done.headers.location)).searchParams.get('code')!;
    const token = await viaTunnel(info, '/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CLAUDE_AI,
        client_id: clientId,
        code_verifier: verifier,
      }).toString(),
    });
    expect(JSON.parse(token.body)).toMatchObject({ scope: 'mcp:toy:read' });
  });

  it('"approvals approve" with an unknown id exits non-zero with a reason', async () => {
    const result = await run(['approvals', 'approve', 'no-such-id']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no pending request');
  });

  it('"tunnel status" shows the running tunnel', async () => {
    const result = await run(['tunnel']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Public MCP URL: ${publicMcpUrl}`);
  });

  it('kills cloudflared when serve is stopped', async () => {
    expect(isAlive(info.pid)).toBe(true);
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    await exited;
    expect(isAlive(info.pid)).toBe(false);
  });
});

describe('CLI: serve --tunnel without cloudflared', () => {
  it('exits non-zero naming the missing cloudflared', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-cli-notunnel-'));
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolvePromise) => {
        const c = spawn(
          process.execPath,
          ['--import', 'tsx', CLI, 'serve', '--tunnel', '--port', '0', '--data-dir', join(dir, 'data')],
          { env: { ...process.env, PATH: emptyBin }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let err = '';
        c.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        c.on('close', (code) => resolvePromise({ code, stderr: err }));
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('cloudflared was not found on PATH');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
