import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_SESSION_STORAGE_KEY } from '../../src/api/contract.js';
import { parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';
import { consoleSignedIn, hasChromium, launchChromium } from '../helpers/browser.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

const CONSOLE = join(ROOT, 'dist/renderer');

/**
 * A web app on another port of 127.0.0.1, as the owner might run or visit one (a dev server, a
 * local tool). It records what the owner's browser sends it, and its page script tries every way
 * a page has to act on the gateway's owner API in the owner's name.
 */
async function otherLocalApp(gatewayOrigin: string) {
  const seen: IncomingHttpHeaders[] = [];
  const tokens = `${gatewayOrigin}/api/tokens`;
  const body = JSON.stringify({ name: 'stolen', scopes: ['*'], ttlSeconds: 3600 });
  const page = `<!doctype html><title>Another local app</title>
<form method="POST" action="${tokens}" enctype="text/plain">
  <input type="hidden" name='{"name":"stolen","scopes":["*"],"ttlSeconds":3600,"x":"' value='"}'>
</form>
<script>
  const outcome = (p) => p.then((r) => 'answered ' + r.status + ' ' + r.type, (e) => 'blocked: ' + e.name);
  window.attack = async () => ({
    // (a) the gateway's API with whatever credentials the browser would add for it
    withCredentials: await outcome(fetch(${JSON.stringify(tokens)}, {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)},
    })),
    // ... and the kind of request a browser sends without asking (no preflight): its answer unreadable
    simpleRequest: await outcome(fetch(${JSON.stringify(tokens)}, {
      method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body)},
    })),
    // (b) with the session header, whose value this page cannot know
    forgedHeader: await outcome(fetch(${JSON.stringify(tokens)}, {
      method: 'POST', credentials: 'include',
      headers: { 'content-type': 'application/json', 'x-cortex-session': 'guessed' }, body: ${JSON.stringify(body)},
    })),
    readTokens: await outcome(fetch(${JSON.stringify(tokens)}, { credentials: 'include' }).then((r) => r.json())),
    // The console's secret is the gateway origin's: this origin's storage does not have it.
    storedHere: localStorage.getItem(${JSON.stringify(CONSOLE_SESSION_STORAGE_KEY)}),
  });
</script>`;
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Finding 1 of issue 9: a cookie for 127.0.0.1 reaches every port, so the console's credential
// must not be one. These run in the owner's own browser, signed in, with the other app open.
describe.skipIf(!hasChromium && !process.env.CI)('the console credential from another local port', () => {
  beforeAll(() => {
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('is neither sent to nor usable by a web app on another port: fetch, forged header, form POST and cookie replay all fail', async () => {
    await using data = await tempDir('cortex-cross-port-');
    await using gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }), {
      consoleDir: CONSOLE,
      dataDir: data.path,
    });
    const { origin } = await gateway.start();
    await using other = await otherLocalApp(origin);
    await using browser = await launchChromium();
    const context = await browser.newContext();
    // What an older version left in this browser: a console cookie for 127.0.0.1.
    await context.addCookies([{ name: 'cortex_console', value: 'left-by-an-older-version', url: origin }]);

    // The premise: the browser hands a cookie for 127.0.0.1 to a page on any other port.
    const visit = await context.newPage();
    await visit.goto(other.url);
    expect(other.seen.at(-1)!.cookie).toBe('cortex_console=left-by-an-older-version');

    // The owner signs in to the console; signing in expires that cookie.
    const owner = await context.newPage();
    await owner.goto(gateway.consoleLoginUrl());
    await consoleSignedIn(owner);
    await owner.getByText('Your MCP endpoint').waitFor({ timeout: 10_000 });
    const secret = (await owner.evaluate(`localStorage.getItem('${CONSOLE_SESSION_STORAGE_KEY}')`)) as string;
    expect(await context.cookies()).toEqual([]);

    // The owner then visits the other app, in the same browser.
    const attacker = await context.newPage();
    const answers: Array<{ method: string; status: number }> = [];
    attacker.on('response', (res) => {
      if (res.url() === `${origin}/api/tokens`) answers.push({ method: res.request().method(), status: res.status() });
    });
    await attacker.goto(other.url);
    expect(other.seen.at(-1)!.cookie).toBeUndefined();
    const attempts = await attacker.evaluate('window.attack()');
    expect(attempts).toEqual({
      // (a) a JSON POST needs a preflight, which the owner API never approves
      withCredentials: 'blocked: TypeError',
      // ... a request sent without one reaches the gateway, carrying nothing that signs it in
      simpleRequest: 'answered 0 opaque',
      // (b) a custom header needs a preflight too
      forgedHeader: 'blocked: TypeError',
      readTokens: 'blocked: TypeError',
      storedHere: null,
    });

    // (c) a form POST, a top-level navigation no preflight stops
    const form = attacker.waitForResponse(
      (res) => res.url() === `${origin}/api/tokens` && res.request().isNavigationRequest(),
    );
    await attacker.evaluate('document.forms[0].submit()');
    // Refused before any owner check: a browser Origin must be the gateway's own, port included.
    expect((await form).status()).toBe(403);
    expect(await attacker.textContent('body')).toContain('Origin not allowed');

    // Every attempt that reached the gateway was refused.
    expect(answers.filter((a) => a.method === 'POST').length).toBeGreaterThanOrEqual(2);
    expect(answers.every((a) => a.status === 401 || a.status === 403)).toBe(true);

    // The old attack, from a script: the session secret replayed as the console cookie, with the
    // console's own Origin forged. No cookie proves anything any more.
    const forged = { cookie: `cortex_console=${secret}`, origin, 'content-type': 'application/json' };
    const replay = await fetch(`${origin}/api/tokens`, {
      method: 'POST',
      headers: forged,
      body: JSON.stringify({ name: 'stolen', scopes: ['*'], ttlSeconds: 3600 }),
    });
    expect(replay.status).toBe(401);
    const command = await fetch(`${origin}/api/backends/x/test`, {
      method: 'POST',
      headers: forged,
      body: JSON.stringify({ command: 'touch', args: [join(data.path, 'ran')] }),
    });
    expect(command.status).toBe(401);
    expect(existsSync(join(data.path, 'ran'))).toBe(false);

    // No token was made, and the owner is still signed in.
    expect(gateway.authorizationServer!.personalTokens()).toEqual([]);
    await owner.reload();
    await owner.getByText('Your MCP endpoint').waitFor({ timeout: 10_000 });
    expect(await owner.getByText('Your console session has ended').count()).toBe(0);
  });
});
