import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PendingConsentView } from '../../src/api/contract.js';
import { parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { signedIn } from '../helpers/console-browser.js';
import { nodeBackend, ROOT, TOY } from '../helpers/gateway.js';
import { authorizationRequest } from '../helpers/oauth.js';

const CONSOLE = join(ROOT, 'dist/renderer');

/** A gateway serving the built console, as `serve` runs it. */
async function consoleGateway() {
  const content = { mcpServers: { toy: nodeBackend(TOY) }, gateway: { port: 0 } };
  const configPath = join(await mkdtemp(join(tmpdir(), 'cortex-consent-')), 'cortex.config.json');
  await writeFile(configPath, JSON.stringify(content, null, 2));
  const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath });
  const address = await gateway.start();
  return { gateway, address, [Symbol.asyncDispose]: () => gateway.stop() };
}

/** The client's side: a loopback callback that records what the browser brings back. */
async function callbackServer() {
  const hits: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // The redirect, not what the browser asks for afterwards (its favicon).
    if (url.pathname === '/cb') hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Signed in; you may close this window.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    redirect: `http://127.0.0.1:${port}/cb`,
    hits,
    landed: (url: URL) => url.port === String(port) && url.pathname === '/cb',
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client registered and an authorization URL for it, as an MCP client opens it in the browser. */
async function authorizationUrl(origin: string, redirect: string, name = 'Browser Test App') {
  const reg = (await (
    await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect], client_name: name }),
    })
  ).json()) as { client_id: string };
  const { url } = authorizationRequest(origin, {
    clientId: reg.client_id,
    redirectUri: redirect,
    scope: 'mcp:toy:read mcp:toy:write',
    state: 'e2e',
  });
  return url.href;
}

async function ownerApi<T>(
  gateway: { ownerToken: string },
  origin: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(new URL(path, origin), {
    method,
    headers: { authorization: `Bearer ${gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return ((await res.json()) as { value: T }).value;
}

describe.skipIf(!hasChromium && !process.env.CI)('consent in the browser (only the owner approves)', () => {
  beforeAll(() => {
    // CI builds before testing; a local run may not have.
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('makes a browser without an owner session wait, refuses its own approval, and continues once the owner approves', async () => {
    await using gw = await consoleGateway();
    await using callback = await callbackServer();
    const url = await authorizationUrl(gw.address.origin, callback.redirect);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 900, height: 800 });
      await page.goto(url);
      await page.getByRole('heading', { name: "Waiting for the owner's approval" }).waitFor();
      const code = (await page.locator('#request-code').textContent())!;
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      // It says where the owner approves.
      await page.getByText('Clients & access').waitFor();
      await page.getByText('cortex-gateway approvals approve <code>').waitFor();
      await page.screenshot({ path: join(ROOT, 'test-results', 'consent-waiting.png') });
      expect(await page.getByRole('button', { name: 'Allow' }).isVisible()).toBe(false);

      // The page's own CSRF token, posted from the page itself, with or without a made-up session.
      const crafted = (session?: string) =>
        page.evaluate(`(async () => {
          const form = document.getElementById('consent-form');
          const body = new URLSearchParams({
            request_id: form.querySelector('[name=request_id]').value,
            csrf: form.querySelector('[name=csrf]').value,
            decision: 'approve',
            scope: 'mcp:toy:write',
          });
          const headers = ${session ? `{ 'X-Cortex-Session': ${JSON.stringify(session)} }` : '{}'};
          const res = await fetch('/consent', { method: 'POST', body, headers, redirect: 'manual' });
          return { status: res.status, text: await res.text() };
        })()`) as Promise<{ status: number; text: string }>;
      const plain = await crafted();
      expect(plain.status).toBe(403);
      expect(plain.text).toContain('Only the owner can approve');
      expect((await crafted(randomBytes(32).toString('base64url'))).status).toBe(403);
      expect(callback.hits).toEqual([]);

      // Still waiting; the owner approves in the approval list (here the owner API, as the CLI does).
      const [request] = await ownerApi<PendingConsentView[]>(gw.gateway, gw.address.origin, 'GET', '/api/consents');
      expect(request!.userCode).toBe(code);
      await ownerApi(gw.gateway, gw.address.origin, 'POST', `/api/consents/${request!.id}`, { decision: 'approve' });
      await page.waitForURL(callback.landed, { timeout: 15_000 });
      expect(callback.hits.at(-1)!.searchParams.get('code')).toBeTruthy();
      expect(callback.hits.at(-1)!.searchParams.get('state')).toBe('e2e');
    } finally {
      await browser.close();
    }
  });

  it('also waits and continues with JavaScript turned off', async () => {
    await using gw = await consoleGateway();
    await using callback = await callbackServer();
    const url = await authorizationUrl(gw.address.origin, callback.redirect);
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
      await page.goto(url);
      await page.getByRole('heading', { name: "Waiting for the owner's approval" }).waitFor();
      const [request] = await ownerApi<PendingConsentView[]>(gw.gateway, gw.address.origin, 'GET', '/api/consents');
      await ownerApi(gw.gateway, gw.address.origin, 'POST', `/api/consents/${request!.id}`, { decision: 'deny' });
      await page.waitForURL(callback.landed, { timeout: 15_000 });
      expect(callback.hits.at(-1)!.searchParams.get('error')).toBe('access_denied');
    } finally {
      await browser.close();
    }
  });

  it("shows in the console's approval view the code the waiting page shows, with where the request came from", async () => {
    await using gw = await consoleGateway();
    await using callback = await callbackServer();
    const url = await authorizationUrl(gw.address.origin, callback.redirect, 'Look Alike');
    const requester = await launchChromium();
    try {
      const waiting = await requester.newPage();
      await waiting.goto(url);
      const code = (await waiting.locator('#request-code').textContent())!;
      const userAgent = (await waiting.evaluate('navigator.userAgent')) as string;

      await using owner = await signedIn(gw.gateway, { width: 1100, height: 1000 });
      const { page } = owner;
      await page.getByRole('navigation').getByRole('link', { name: 'Clients & access', exact: true }).click();
      const request = page.getByRole('group', { name: 'Request from Look Alike' });
      await request.getByLabel('Request code').waitFor({ timeout: 10_000 });
      expect(await request.getByLabel('Request code').textContent()).toBe(code);
      const origin = request.locator('dl.request-origin');
      await origin.getByText("on this machine's listener").waitFor();
      await origin.getByText(gw.address.origin, { exact: true }).waitFor();
      await origin.getByText('127.0.0.1', { exact: true }).waitFor();
      await origin.getByText(userAgent, { exact: true }).waitFor();
      await origin.getByText(/registered through \/register, just now/).waitFor();
      await origin.getByText(new URL(callback.redirect).host, { exact: true }).waitFor();
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-approval-code.png'), fullPage: true });

      // Approved in the console, the requesting browser continues by itself.
      await request.getByRole('button', { name: 'Approve', exact: true }).click();
      await waiting.waitForURL(callback.landed, { timeout: 15_000 });
      expect(callback.hits.at(-1)!.searchParams.get('code')).toBeTruthy();
    } finally {
      await requester.close();
    }
  });

  it('lets a browser signed in to the console approve on the page itself, write access unticked', async () => {
    await using gw = await consoleGateway();
    await using callback = await callbackServer();
    const url = await authorizationUrl(gw.address.origin, callback.redirect, 'Owner App');
    await using owner = await signedIn(gw.gateway, { width: 900, height: 800 });
    const { page } = owner;
    await page.goto(url);
    await page.getByRole('heading', { name: /^Allow Owner App to use your MCP servers\?$/ }).waitFor();
    const read = page.getByRole('checkbox').nth(0);
    const write = page.getByRole('checkbox').nth(1);
    expect([await read.isChecked(), await write.isChecked()]).toEqual([true, false]);
    await page.screenshot({ path: join(ROOT, 'test-results', 'consent-owner.png') });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(callback.landed, { timeout: 15_000 });
    expect(callback.hits.at(-1)!.searchParams.get('code')).toBeTruthy();
    // Decided on the page: nothing is left waiting in the approval list.
    expect(await ownerApi(gw.gateway, gw.address.origin, 'GET', '/api/consents')).toEqual([]);
  });

  it("carries an app the owner approved before on by itself in the owner's browser, with no click and no other choice", async () => {
    await using gw = await consoleGateway();
    await using callback = await callbackServer();
    const url = await authorizationUrl(gw.address.origin, callback.redirect, 'Returning App');
    await using owner = await signedIn(gw.gateway, { width: 900, height: 800 });
    const { page } = owner;
    await page.goto(url);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(callback.landed, { timeout: 15_000 });
    // The app signs in again (a new PKCE challenge, as a client does each time): no click here.
    const again = new URL(url);
    again.searchParams.set('state', 'again');
    again.searchParams.set(
      'code_challenge',
      createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
    );
    await page.goto(again.href);
    await page.waitForURL((landed) => callback.landed(landed) && landed.searchParams.get('state') === 'again', {
      timeout: 15_000,
    });
    expect(callback.hits.at(-1)!.searchParams.get('code')).toBeTruthy();
    expect(await ownerApi(gw.gateway, gw.address.origin, 'GET', '/api/consents')).toEqual([]);
  });
});
