import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../src/api/contract.js';
import { consoleSignIn, redeemLink, type ConsoleSession } from '../helpers/console-session.js';
import { startGateway, tempDir, type RunningGateway } from '../helpers/gateway.js';

/** A gateway with a config file, so every owner route (edits, imports, tool overrides) is mounted. */
async function gatewayWithConfig(dir: string) {
  const configPath = join(dir, 'cortex.config.json');
  await writeFile(configPath, JSON.stringify({ mcpServers: {} }, null, 2));
  const gw = await startGateway({}, {}, { configPath, dataDir: dir });
  return Object.assign(gw, { configPath });
}

/** A backend entry whose command leaves `marker` behind when it runs (it is no MCP server). */
const markerCommand = (marker: string) => ({
  command: process.execPath,
  args: ['-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`],
});

const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });

/** Another port of this machine: what a web app served there sends as its Origin. */
const otherPort = (gw: RunningGateway) => `http://127.0.0.1:${gw.address.port === 65535 ? 1 : gw.address.port + 1}`;

/**
 * Sends a request in two steps: its headers (with `Expect: 100-continue`), then, once the gateway
 * has asked for the body, `meanwhile` runs, and only then the body follows. node:http answers
 * 100 Continue as it hands the request to the router, and the route's first owner check runs in
 * that same turn of the event loop, before anything `meanwhile` sends can arrive: so the route has
 * let the request in, and what `meanwhile` changes is what it meets when it acts.
 */
function sendBodyLater(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: unknown,
  meanwhile: () => Promise<void>,
): Promise<{ status: number; body: { ok: boolean; error?: { code: string } } }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { ...json(headers), expect: '100-continue', 'content-length': String(Buffer.byteLength(payload)) },
    });
    req.on('continue', () => meanwhile().then(() => req.end(payload), reject));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as never }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('the console credential is bound to the console page exact origin', () => {
  it('refuses every state-changing owner route to a live session sent from another port, with a null Origin or none', async () => {
    await using dir = await tempDir('cortex-credential-');
    await using gw = await gatewayWithConfig(dir.path);
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const changes = Object.values(API_ROUTES)
      .map((route) => route.split(' ') as [string, string])
      .filter(([method]) => method !== 'GET');
    expect(changes.length).toBeGreaterThan(15);
    for (const [method, path] of changes) {
      const url = new URL(path.replace(/:[a-z]+/g, 'x'), gw.address.origin);
      for (const origin of [otherPort(gw), 'null', undefined]) {
        const headers = json({ 'x-cortex-session': session.secret, ...(origin ? { origin } : {}) });
        const res = await fetch(url, { method, headers, body: '{}' });
        expect({ route: `${method} ${path}`, origin, status: res.status }).toEqual({
          route: `${method} ${path}`,
          origin,
          status: 403,
        });
      }
    }
    // Nothing happened: no token made, the session still live, the config file untouched.
    expect(gw.gateway.authorizationServer!.personalTokens()).toHaveLength(1);
    expect((await fetch(new URL('/api/backends', gw.address.origin), { headers: session.headers() })).status).toBe(200);
    expect(JSON.parse(await readFile(gw.configPath, 'utf8'))).toEqual({ mcpServers: {} });
  });

  it('accepts a change from the exact origin, and reads without an Origin (browsers send none on same-origin GETs)', async () => {
    await using gw = await startGateway({});
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const tokens = new URL('/api/tokens', gw.address.origin);
    const created = await fetch(tokens, {
      method: 'POST',
      headers: json(session.headers()),
      body: JSON.stringify({ name: 'from the console', scopes: ['*'], ttlSeconds: 60 }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(tokens, { headers: { 'x-cortex-session': session.secret } })).status).toBe(200);
    // A read that says it comes from another port is refused all the same.
    const foreign = await fetch(tokens, { headers: { 'x-cortex-session': session.secret, origin: otherPort(gw) } });
    expect(foreign.status).toBe(403);
  });

  it('refuses the session secret replayed as the old cookie, with the console Origin forged', async () => {
    await using gw = await startGateway({});
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const res = await fetch(new URL('/api/tokens', gw.address.origin), {
      method: 'POST',
      headers: json({ cookie: `cortex_console=${session.secret}`, origin: session.origin }),
      body: JSON.stringify({ name: 'stolen', scopes: ['*'], ttlSeconds: 60 }),
    });
    expect(res.status).toBe(401);
    expect(gw.gateway.authorizationServer!.personalTokens()).toHaveLength(1);
  });

  it('approves no CORS preflight on the owner API, so no other page can send the session header', async () => {
    await using gw = await startGateway({});
    for (const path of ['/api/tokens', '/api/backends/x/test', '/api/session', '/api']) {
      const res = await fetch(new URL(path, gw.address.origin), {
        method: 'OPTIONS',
        headers: {
          origin: otherPort(gw),
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-cortex-session, content-type',
        },
      });
      expect(res.status).toBe(403);
      expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
    // Nor does an answer to a request that came anyway let another origin read it.
    const read = await fetch(new URL('/api/session', gw.address.origin), { headers: { origin: otherPort(gw) } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('signs in only from the console page own origin, without spending the link otherwise, and only once', async () => {
    await using gw = await startGateway({});
    const link = gw.gateway.consoleLoginUrl();
    expect((await redeemLink(link, { origin: otherPort(gw) })).status).toBe(403);
    const noOrigin = await fetch(new URL('/api/session', gw.address.origin), {
      method: 'POST',
      headers: json({}),
      body: JSON.stringify({ token: new URL(link).searchParams.get('token') }),
    });
    expect(noOrigin.status).toBe(403);
    const first = await redeemLink(link);
    expect(first.status).toBe(200);
    const again = await redeemLink(link);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ ok: false, error: { code: 'unauthorized', field: 'token' } });
  });

  it('tells the sign-in page whether the session it holds is live, and nothing more without one', async () => {
    await using gw = await startGateway({}, {}, { cliCommand: 'node ~/cortex/dist/cortex-gateway.mjs' });
    const url = new URL('/api/session', gw.address.origin);
    const anonymous = await fetch(url);
    expect(await anonymous.json()).toEqual({
      ok: true,
      value: { signedIn: false, cliCommand: 'node ~/cortex/dist/cortex-gateway.mjs' },
    });
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const live = (await (await fetch(url, { headers: session.headers() })).json()) as { value: { signedIn: boolean } };
    expect(live.value.signedIn).toBe(true);
  });
});

describe('command-running routes', () => {
  /** POST /api/backends/:name/test of an entry whose command leaves a marker when it runs. */
  const runTest = (gw: RunningGateway, marker: string, headers: Record<string, string>) =>
    fetch(new URL('/api/backends/probe/test', gw.address.origin), {
      method: 'POST',
      headers: json(headers),
      body: JSON.stringify(markerCommand(marker)),
    });

  it('runs nothing for a browser without a session from the exact origin', async () => {
    await using dir = await tempDir('cortex-credential-');
    await using gw = await startGateway({});
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const marker = join(dir.path, 'ran');
    expect((await runTest(gw, marker, { origin: session.origin })).status).toBe(401);
    expect((await runTest(gw, marker, { 'x-cortex-session': session.secret })).status).toBe(403);
    expect((await runTest(gw, marker, { 'x-cortex-session': session.secret, origin: otherPort(gw) })).status).toBe(403);
    expect(
      (await runTest(gw, marker, { cookie: `cortex_console=${session.secret}`, origin: session.origin })).status,
    ).toBe(401);
    expect(existsSync(marker)).toBe(false);
    // The same request with the session from the console page runs it.
    expect((await runTest(gw, marker, session.headers())).status).toBe(200);
    expect(existsSync(marker)).toBe(true);
  });

  it('runs it for the CLI with the owner token from the runtime file', async () => {
    await using dir = await tempDir('cortex-credential-');
    await using gw = await startGateway({});
    const marker = join(dir.path, 'ran');
    expect((await runTest(gw, marker, { authorization: `Bearer ${gw.gateway.ownerToken}` })).status).toBe(200);
    expect(existsSync(marker)).toBe(true);
  });

  it('asks for the owner again when the test runs: a session signed out while its body was on the way runs nothing', async () => {
    await using dir = await tempDir('cortex-credential-');
    await using gw = await startGateway({});
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const marker = join(dir.path, 'ran');
    const signOut = async () => void (await signOutOf(gw, session));
    const url = new URL('/api/backends/probe/test', gw.address.origin);
    const res = await sendBodyLater(url, 'POST', session.headers(), markerCommand(marker), signOut);
    expect(res).toMatchObject({ status: 401, body: { ok: false, error: { code: 'unauthorized' } } });
    expect(existsSync(marker)).toBe(false);
  });

  it('asks for the owner again when a backend is saved: a session signed out meanwhile saves nothing', async () => {
    await using dir = await tempDir('cortex-credential-');
    await using gw = await gatewayWithConfig(dir.path);
    const session = await consoleSignIn(gw.gateway.consoleLoginUrl());
    const marker = join(dir.path, 'ran');
    const url = new URL('/api/backends/probe', gw.address.origin);
    const signOut = async () => void (await signOutOf(gw, session));
    const res = await sendBodyLater(url, 'PUT', session.headers(), markerCommand(marker), signOut);
    expect(res).toMatchObject({ status: 401, body: { ok: false, error: { code: 'unauthorized' } } });
    expect(JSON.parse(await readFile(gw.configPath, 'utf8'))).toEqual({ mcpServers: {} });
    expect(gw.gateway.backendStatuses()).toEqual([]);
  });
});

async function signOutOf(gw: RunningGateway, session: ConsoleSession): Promise<void> {
  const res = await fetch(new URL('/api/session/logout', gw.address.origin), {
    method: 'POST',
    headers: session.headers(),
  });
  expect(res.status).toBe(200);
}
