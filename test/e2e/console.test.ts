import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CONSOLE_SESSION_STORAGE_KEY } from '../../src/api/contract.js';
import { createGateway, type GatewayDeps } from '../../src/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from 'playwright-core';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { approve, MemoryOAuthProvider, ownerSession } from '../helpers/oauth.js';
import { consoleSignedIn, signedIn } from '../helpers/console-browser.js';
import { connectClient, nodeBackend, ROOT, TOY, waitFor } from '../helpers/gateway.js';

const CONSOLE = join(ROOT, 'dist/renderer');

async function consoleGateway(deps: GatewayDeps = {}) {
  const content = { mcpServers: { toy: nodeBackend(TOY) }, gateway: { port: 0 } };
  const configPath = join(await mkdtemp(join(tmpdir(), 'cortex-console-')), 'cortex.config.json');
  await writeFile(configPath, JSON.stringify(content, null, 2));
  const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath, ...deps });
  const address = await gateway.start();
  return { gateway, address, configPath, [Symbol.asyncDispose]: () => gateway.stop() };
}

/** The status of an MCP initialize sent with this bearer token. */
async function initializeWith(mcpUrl: string, token: string): Promise<number> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'script', version: '1' } },
    }),
  });
  await res.body?.cancel();
  return res.status;
}

/** The session secret the console page keeps. */
const storedSecret = (page: Page) =>
  page.evaluate(`localStorage.getItem('${CONSOLE_SESSION_STORAGE_KEY}')`) as Promise<string | null>;

/** Follows a link of the console's sidebar. */
async function openPage(page: Page, label: string) {
  await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
}

// The headless console: owner-only behind a one-time sign-in link, then a session secret kept by
// the console's own origin (localStorage) and sent in a header; no cookie.
describe.skipIf(!hasChromium && !process.env.CI)('console sign-in (headless, in Chromium)', () => {
  beforeAll(() => {
    // CI builds before testing; a local run may not have.
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('signs in with the link and shows every server with its state', async () => {
    await using gw = await consoleGateway();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using browser = await signedIn(gw.gateway, { width: 1000, height: 700 });
    const { page } = browser;
    expect(new URL(page.url()).pathname).toBe('/app/');
    await page.getByText('all ready').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-overview.png') });
    await openPage(page, 'Servers');
    await page.getByText('Ready', { exact: true }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole('cell', { name: /toy/ }).count()).toBeGreaterThan(0);
    // The token is gone from the address bar, the secret is this origin's, and no cookie was set.
    expect(page.url()).not.toContain('token');
    expect(await storedSecret(page)).toMatch(/^[\w-]{43}$/);
    expect(await page.context().cookies()).toEqual([]);
  });

  it('adds a server through the form, shows it becoming ready, and removes it after confirming', async () => {
    await using gw = await consoleGateway();
    await using browser = await signedIn(gw.gateway, { width: 1000, height: 900 });
    const { page } = browser;
    await openPage(page, 'Servers');
    await page.getByRole('button', { name: 'Add server' }).click();
    // A remote URL that is not one: the error appears next to the field, nothing is saved.
    await page.getByLabel('Remote URL').check();
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByLabel('URL', { exact: true }).fill('not a url');
    const form = page.getByRole('form', { name: 'Add an MCP server' });
    await form.getByRole('button', { name: 'Add server' }).click();
    await form
      .locator('label.field', { has: page.getByLabel('URL', { exact: true }) })
      .locator('.field-error')
      .getByText('must be an absolute http(s) URL')
      .waitFor();
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-add-server-error.png') });
    expect(gw.gateway.backendStatuses().map((s) => s.name)).toEqual(['toy']);

    await page.getByLabel('Command on this computer').check();
    await page.getByLabel('Name', { exact: true }).fill('second');
    await page.getByLabel('Command', { exact: true }).fill(process.execPath);
    await page.getByLabel('Arguments', { exact: true }).fill(TOY);
    await form.getByRole('button', { name: 'Add server' }).click();
    await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'second')?.state === 'ready',
      'second ready',
    );
    await page
      .getByRole('row', { name: /second/ })
      .getByText('Ready')
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-servers.png') });

    page.once('dialog', (dialog) => void dialog.accept());
    await page
      .getByRole('row', { name: /second/ })
      .getByRole('button', { name: 'Remove' })
      .click();
    await page.getByRole('row', { name: /second/ }).waitFor({ state: 'detached', timeout: 10_000 });
    expect(gw.gateway.backendStatuses().map((s) => s.name)).toEqual(['toy']);
  });

  it('shows an application after its OAuth consent, changes its access per server, and revoking it there refuses its next call', async () => {
    await using gw = await consoleGateway();
    const provider = new MemoryOAuthProvider('http://127.0.0.1:53999/callback', 'Console Test App');
    const first = new StreamableHTTPClientTransport(new URL(gw.address.mcpUrl), { authProvider: provider });
    await new Client({ name: 'app', version: '1' }).connect(first).catch(() => {});
    const callback = await approve(provider.authorizationUrl!, await ownerSession(gw.gateway), ['mcp:toy:read']);
    await first.finishAuth(callback.searchParams.get('code')!);
    const client = new Client({ name: 'app', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.address.mcpUrl), { authProvider: provider }));
    await client.listTools();

    await using browser = await signedIn(gw.gateway, { width: 1000, height: 900 });
    const { page } = browser;
    await openPage(page, 'Clients & access');
    const row = page.getByRole('row', { name: /Console Test App/ });
    const access = row.getByRole('combobox', { name: 'Console Test App: access to toy' });
    await expect.poll(() => access.inputValue(), { timeout: 10_000 }).toBe('read');
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-clients.png') });
    // The owner gives it write access there: its next request sees every tool, without a new sign-in.
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('toy__add_tool');
    await access.selectOption('write');
    await waitFor(
      async () => (await client.listTools()).tools.some((t) => t.name === 'toy__add_tool'),
      'write access applied',
    );
    await expect.poll(() => access.inputValue(), { timeout: 10_000 }).toBe('write');
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('Revoked').waitFor({ timeout: 10_000 });
    await expect(client.listTools()).rejects.toThrow();
    const status = await fetch(gw.address.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.status);
    expect(status).toBe(401);
  });

  it('turns a tool off on the tools page, and it vanishes from an MCP client tools/list', async () => {
    await using gw = await consoleGateway();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const { token } = await gw.gateway.createPersonalToken({ name: 'script', scopes: ['*'], ttlSeconds: 600 });
    await using session = await connectClient(new URL(gw.address.mcpUrl), token);
    const client = session.client;
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('toy__pid');
    await using browser = await signedIn(gw.gateway, { width: 1200, height: 1000 });
    const { page } = browser;
    await openPage(page, 'Tools & scopes');
    const toggle = page.getByRole('switch', { name: 'Enable pid' });
    await toggle.waitFor({ timeout: 10_000 });
    expect(await toggle.isChecked()).toBe(true);
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-tools.png') });
    await toggle.click();
    await page.getByText('pid (off: not listed)').waitFor({ timeout: 10_000 });
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('toy__pid');
    // The overview counts what clients can be given: the tool turned off is not among them.
    await openPage(page, 'Overview');
    await page.getByText('from ready servers, 1 turned off').waitFor({ timeout: 10_000 });
    await openPage(page, 'Tools & scopes');

    // Reclassifying changes the scope shown for the tool.
    await page.getByRole('combobox', { name: 'Access of echo' }).selectOption('write');
    await page.getByRole('row', { name: /echo/ }).getByText('mcp:toy:write').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-tools-changed.png') });
  });

  it('shows tool calls live on the activity page, filtered by outcome', async () => {
    await using gw = await consoleGateway();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const { token } = await gw.gateway.createPersonalToken({ name: 'nightly script', scopes: ['*'], ttlSeconds: 600 });
    await using session = await connectClient(new URL(gw.address.mcpUrl), token);
    const client = session.client;
    await using browser = await signedIn(gw.gateway, { width: 1200, height: 800 });
    const { page } = browser;
    await openPage(page, 'Activity');
    await page.getByText('No tool calls yet').waitFor({ timeout: 10_000 });
    await client.callTool({ name: 'toy__echo', arguments: { text: 'private words' } });
    await client.callTool({ name: 'toy__missing', arguments: {} }).catch(() => {});
    const row = page.getByRole('row', { name: /toy__echo/ });
    await row.getByText('nightly script').waitFor({ timeout: 10_000 });
    expect(await row.getByText('OK', { exact: true }).count()).toBe(1);
    expect(await page.getByText('private words').count()).toBe(0);
    await page.getByRole('row', { name: /toy__missing/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-activity.png') });
    await page.getByRole('combobox', { name: 'Outcome' }).selectOption('refused');
    await page.getByRole('row', { name: /toy__echo/ }).waitFor({ state: 'detached' });
    expect(await page.getByRole('row', { name: /toy__missing/ }).count()).toBe(1);
  });

  it('tests a server before saving, edits one, and disables and enables it', async () => {
    await using gw = await consoleGateway();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using browser = await signedIn(gw.gateway, { width: 1200, height: 1100 });
    const { page } = browser;
    await openPage(page, 'Servers');
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.getByLabel('Name', { exact: true }).fill('broken');
    await page.getByLabel('Command', { exact: true }).fill(process.execPath);
    await page
      .getByLabel('Arguments', { exact: true })
      .fill(`-e\nconsole.error('API_KEY is missing'); process.exit(2)`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Could not connect').waitFor({ timeout: 20_000 });
    await page.locator('pre.stderr').getByText('API_KEY is missing').waitFor();
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-test-connection-failed.png') });
    expect(gw.gateway.backendStatuses().map((s) => s.name)).toEqual(['toy']);
    await page.getByRole('button', { name: 'Cancel' }).click();

    const row = page.getByRole('row', { name: /toy/ });
    await row.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit toy' }).waitFor();
    expect(await page.getByLabel('Command', { exact: true }).inputValue()).toBe(process.execPath);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Connected to toy/).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-edit-server.png') });
    await page.getByRole('button', { name: 'Cancel' }).click();

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('Disabled', { exact: true }).waitFor({ timeout: 10_000 });
    expect(gw.gateway.backendStatuses()[0]!.state).toBe('disabled');
    await row.getByRole('button', { name: 'Enable' }).click();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready again');
    await row.getByText('Ready', { exact: true }).waitFor({ timeout: 10_000 });
  });

  it('connects Claude Desktop from the overview, keeping its other settings, and starts the public URL', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cortex-console-home-'));
    const claudeDir = join(home, '.config', 'Claude');
    await mkdir(claudeDir, { recursive: true });
    const claudeConfig = join(claudeDir, 'claude_desktop_config.json');
    const before = { mcpServers: { mine: { command: 'my-server' } }, globalShortcut: 'Ctrl+Space' };
    await writeFile(claudeConfig, JSON.stringify(before, null, 2));
    const bin = await mkdtemp(join(tmpdir(), 'cortex-console-bin-'));
    const fake = join(ROOT, 'test/fixtures/fake-cloudflared.mjs');
    await writeFile(join(bin, 'cloudflared'), `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`);
    await chmod(join(bin, 'cloudflared'), 0o755);
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: '', PATH: `${bin}:${process.env.PATH ?? ''}` };
    const content = { mcpServers: { toy: nodeBackend(TOY) }, gateway: { port: 0 } };
    const configPath = join(await mkdtemp(join(tmpdir(), 'cortex-console-')), 'cortex.config.json');
    await writeFile(configPath, JSON.stringify(content, null, 2));
    const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath, env });
    await gateway.start();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1200, height: 1300 });
      await page.goto(gateway.consoleLoginUrl());
      const row = page.getByRole('row', { name: /Claude Desktop/ });
      await row.getByText('Not connected').waitFor({ timeout: 10_000 });
      await row.getByRole('button', { name: 'Connect to Claude Desktop' }).click();
      await row.getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });
      await page.getByText(/Quit Claude Desktop completely/).waitFor({ timeout: 10_000 });
      const after = JSON.parse(await readFile(claudeConfig, 'utf8')) as {
        globalShortcut: string;
        mcpServers: Record<string, { command: string; args?: string[] }>;
      };
      expect(after.globalShortcut).toBe('Ctrl+Space');
      expect(after.mcpServers.mine).toEqual(before.mcpServers.mine);
      const ours = Object.values(after.mcpServers).find((e) => e.args?.includes('mcp-remote'));
      // npx -y mcp-remote <url> [--static-oauth-client-metadata …]: the URL follows the package name.
      expect(ours?.args?.[ours.args.indexOf('mcp-remote') + 1]).toBe(gateway.address!.mcpUrl);

      await page.getByRole('button', { name: 'Start public URL' }).click();
      await page.getByText(/https:\/\/[a-z0-9-]+\.trycloudflare\.com\/mcp/).waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-overview-connect.png'), fullPage: true });
    } finally {
      await browser.close();
      await gateway.stop();
    }
  });

  it('pauses and resumes serving clients from the overview', async () => {
    await using gw = await consoleGateway();
    await using browser = await signedIn(gw.gateway);
    const { page } = browser;
    await page.getByText('Serving', { exact: true }).waitFor({ timeout: 10_000 });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByText('Paused', { exact: true }).waitFor({ timeout: 10_000 });
    expect(gw.gateway.paused).toBe(true);
    const { token } = await gw.gateway.createPersonalToken({ name: 'probe', scopes: ['*'], ttlSeconds: 60 });
    const probe = await fetch(gw.address.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(probe.status).toBe(503);
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByText('Serving', { exact: true }).waitFor({ timeout: 10_000 });
    expect(gw.gateway.paused).toBe(false);
  });

  it('saves the public URL provider on the settings page, with a bad domain refused next to its field', async () => {
    await using gw = await consoleGateway();
    await using browser = await signedIn(gw.gateway, { width: 1100, height: 1300 });
    const { page } = browser;
    await openPage(page, 'Settings');
    await page.getByRole('radio', { name: 'ngrok', exact: true }).check();
    await page.getByLabel('ngrok domain').fill('https://not a host/');
    await page.getByRole('button', { name: 'Save tunnel settings' }).click();
    await page.locator('.field-error', { hasText: 'Must be a host name' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings-tunnel-error.png'), fullPage: true });
    await page.getByLabel('ngrok domain').fill('my-cortex.ngrok-free.dev');
    await page.getByRole('button', { name: 'Save tunnel settings' }).click();
    await page.getByText('The next time the public URL starts').waitFor({ timeout: 10_000 });
    const settings = (await fetch(new URL('/api/settings', gw.address.origin), {
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    }).then((r) => r.json())) as { value: { tunnel: unknown } };
    expect(settings.value.tunnel).toEqual({
      provider: 'ngrok',
      domain: 'my-cortex.ngrok-free.dev',
      autostart: false,
    });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings-tunnel.png'), fullPage: true });
  });

  it('says so on any page when the session ends, instead of showing stale data, with the CLI command to sign in', async () => {
    await using gw = await consoleGateway({ cliCommand: 'node ~/src/cortex/dist/cortex-gateway.mjs' });
    await using browser = await signedIn(gw.gateway);
    const { page } = browser;
    await openPage(page, 'Tools & scopes');
    await page.getByRole('heading', { name: 'Tools & scopes' }).waitFor();
    // What an expired session does to an open console: the secret it holds is no longer known.
    await page.evaluate(`localStorage.setItem('${CONSOLE_SESSION_STORAGE_KEY}', 'expired-or-unknown')`);
    await page.getByText('Your console session has ended').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('heading', { name: 'Tools & scopes' }).count()).toBe(0);
    expect(await page.getByRole('alert').textContent()).toContain(
      'run node ~/src/cortex/dist/cortex-gateway.mjs login',
    );
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-signed-out.png') });
  });

  it('stays signed in across a gateway restart on the same data folder', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-console-data-'));
    const first = await consoleGateway({ dataDir });
    const { port } = first.address;
    await using browser = await signedIn(first.gateway);
    const { page } = browser;
    await page.getByText('Your MCP endpoint').waitFor({ timeout: 10_000 });
    await first.gateway.stop();
    // The same folder and port, as a restart of `serve` or of the app has.
    const content = { mcpServers: {}, gateway: { port } };
    await using second = createGateway(parseConfig(content), { consoleDir: CONSOLE, dataDir });
    const { mcpUrl } = await second.start();
    await page.reload();
    // The overview's MCP URL comes from the API: the restarted gateway answered this session.
    await page.getByText(mcpUrl, { exact: true }).waitFor({ timeout: 10_000 });
    await openPage(page, 'Servers');
    await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
    expect(await page.getByText('Your console session has ended').count()).toBe(0);
  });

  it('signs out: the session ends on the server, not only in this browser', async () => {
    await using gw = await consoleGateway();
    await using browser = await signedIn(gw.gateway);
    const { page } = browser;
    await page.getByText('Your MCP endpoint').waitFor({ timeout: 10_000 });
    const secret = (await storedSecret(page))!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Sign in to Cortex Gateway').waitFor({ timeout: 10_000 });
    expect(await storedSecret(page)).toBeNull();
    const replayed = await fetch(new URL('/api/backends', gw.address.origin), {
      headers: { 'x-cortex-session': secret },
    });
    expect(replayed.status).toBe(401);
  });

  it('shows how to sign in, with the CLI command, when the browser holds no session', async () => {
    await using gw = await consoleGateway({ cliCommand: 'node ~/src/cortex/dist/cortex-gateway.mjs' });
    expect((await fetch(new URL('/api/backends', gw.address.origin))).status).toBe(401);
    await using browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(gw.address.consoleUrl);
    await page.getByRole('heading', { name: 'Sign in to Cortex Gateway' }).waitFor({ timeout: 10_000 });
    await page.getByText('run node ~/src/cortex/dist/cortex-gateway.mjs login').waitFor();
    expect(await page.getByRole('navigation').count()).toBe(0);
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-sign-in.png') });
  });

  it('lets a sign-in link work once, and says so on the page the second time', async () => {
    await using gw = await consoleGateway();
    const link = gw.gateway.consoleLoginUrl();
    await using browser = await launchChromium();
    const first = await browser.newPage();
    await first.goto(link);
    await consoleSignedIn(first);
    // Another browser profile opening the same link gets no session.
    const other = await (await browser.newContext()).newPage();
    await other.goto(link);
    await other.getByRole('heading', { name: 'Sign-in link not valid' }).waitFor({ timeout: 10_000 });
    await other.getByText('already used or has expired').waitFor();
    expect(other.url()).toBe(gw.address.consoleUrl);
    expect(await storedSecret(other)).toBeNull();
  });

  it('creates a personal access token, shows it once, the token works on /mcp, and revoking it there refuses it', async () => {
    await using gw = await consoleGateway();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const browser = await launchChromium();
    let token = '';
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.address.origin });
      const page = await context.newPage();
      await page.goto(gw.gateway.consoleLoginUrl());
      await openPage(page, 'Clients & access');
      await page.getByText('No tokens yet').waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-access-empty.png'), fullPage: true });

      await page.getByRole('button', { name: 'Create token' }).click();
      const form = page.getByRole('form', { name: 'Create a personal access token' });
      await form.getByRole('button', { name: 'Create token' }).click();
      await form.getByText('Name the token after what will use it').waitFor();
      await form.getByText('Choose what the token may use').waitFor();
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-token-form-errors.png'), fullPage: true });

      await form.getByLabel('Name', { exact: true }).fill('backup script');
      await form.getByLabel('mcp:toy:read', { exact: true }).check();
      await form.getByLabel('Expires after').selectOption({ label: '90 days' });
      await form.getByRole('button', { name: 'Create token' }).click();
      const panel = page.locator('.secret-once');
      await panel.getByText('you won’t see it again').waitFor({ timeout: 10_000 });
      token = (await panel.locator('code.token').textContent()) ?? '';
      expect(token).toMatch(/^eyJ/);
      await panel.getByRole('button', { name: 'Copy', exact: true }).click();
      await panel.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-token-created.png'), fullPage: true });

      // The token works, with the access chosen: the read-only tool, not the others.
      expect(await initializeWith(gw.address.mcpUrl, token)).toBe(200);
      await using session = await connectClient(new URL(gw.address.mcpUrl), token);
      const client = session.client;
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('toy__echo');
      expect(names).not.toContain('toy__pid');
      await client.close();

      // Once dismissed, the token is nowhere on the page again.
      await panel.getByRole('button', { name: 'I have copied it' }).click();
      await panel.waitFor({ state: 'detached' });
      expect(await page.content()).not.toContain(token);

      const row = page.getByRole('row', { name: /backup script/ });
      await row.getByText('mcp:toy:read').waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.getByText('Revoked').waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-tokens.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    expect(await initializeWith(gw.address.mcpUrl, token)).toBe(401);
  });

  it("shows a waiting request with its page's code, read access ticked; approving completes the sign-in with only that", async () => {
    await using gw = await consoleGateway({ consentPrompter: { mode: () => 'owner' } });
    const provider = new MemoryOAuthProvider('http://127.0.0.1:53998/callback', 'Remote Connector');
    const first = new StreamableHTTPClientTransport(new URL(gw.address.mcpUrl), { authProvider: provider });
    await new Client({ name: 'remote', version: '1' }).connect(first).catch(() => {});
    expect(provider.authorizationUrl!.searchParams.get('scope')).toBe('mcp:toy:read mcp:toy:write');
    // The client's browser opens the authorization page and is told to wait for the owner.
    const waiting = await (await fetch(provider.authorizationUrl!)).text();
    expect(waiting).toContain("Waiting for the owner's approval");
    const refresh = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(waiting)![1]!.replace(/&amp;/g, '&');
    const code = /id="request-code">([^<]+)</.exec(waiting)![1]!;
    const poll = new URL(refresh, gw.address.origin);

    await using browser = await signedIn(gw.gateway, { width: 1100, height: 900 });
    const { page } = browser;
    // The sidebar says something waits, from any page.
    await page.locator('.nav-badge').getByText('1', { exact: true }).waitFor({ timeout: 10_000 });
    await openPage(page, 'Clients & access');
    const request = page.getByRole('group', { name: 'Request from Remote Connector' });
    await request.getByText('127.0.0.1:53998').waitFor({ timeout: 10_000 });
    expect(await request.getByLabel('Request code').textContent()).toBe(code);
    // It asked for read and write: read is ticked, write only if the owner ticks it.
    expect(await request.getByLabel('mcp:toy:read', { exact: true }).isChecked()).toBe(true);
    expect(await request.getByLabel('mcp:toy:write', { exact: true }).isChecked()).toBe(false);
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-approval.png'), fullPage: true });
    await request.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('Nothing is waiting').waitFor({ timeout: 10_000 });
    await page.locator('.nav-badge').waitFor({ state: 'detached', timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-approval-done.png'), fullPage: true });
    const done = await fetch(poll, { redirect: 'manual' });
    expect(done.status).toBe(302);
    await first.finishAuth(new URL(done.headers.get('location')!).searchParams.get('code')!);
    expect(provider.saved!.scope).toBe('mcp:toy:read');
  });

  it('shows where the data folder and config file are on the settings page, and refuses port 70000 next to the field', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-console-data-'));
    await using gw = await consoleGateway({ dataDir });
    const before = await readFile(gw.configPath, 'utf8');
    await using browser = await signedIn(gw.gateway, { width: 1100, height: 900 });
    const { page } = browser;
    await openPage(page, 'Settings');
    await page.getByText(dataDir, { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByText(gw.configPath, { exact: true }).waitFor();
    await page.getByText('Start at login is a setting of the desktop app').waitFor();
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings.png'), fullPage: true });

    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const field = page.locator('label.field', { has: page.getByLabel('Port', { exact: true }) });
    await field.locator('.field-error').getByText('must be a whole number from 0 to 65535').waitFor();
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings-port-error.png'), fullPage: true });
    expect(await readFile(gw.configPath, 'utf8')).toBe(before);
  });

  it('saves a valid port to the config file and says it applies after a restart', async () => {
    await using gw = await consoleGateway();
    await using browser = await signedIn(gw.gateway, { width: 1100, height: 900 });
    const { page } = browser;
    await openPage(page, 'Settings');
    await page.getByLabel('Port', { exact: true }).fill('4567');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Restart Cortex Gateway to listen on port 4567').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings-saved.png'), fullPage: true });
    expect(JSON.parse(await readFile(gw.configPath, 'utf8')).gateway).toEqual({ port: 4567 });
  });

  it('offers start at login on the settings page when the desktop bridge provides it', async () => {
    await using gw = await consoleGateway();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1100, height: 900 });
      // A stand-in for the Electron preload's window.cortex (DesktopBridge), recording what the page sets.
      await page.addInitScript(`
        let settings = { startAtLogin: false, openConsoleAtLaunch: true, logLevel: 'info' };
        window.cortexCalls = [];
        window.cortex = Object.freeze({
          version: '0.0.0',
          platform: async () => ({ ok: true, value: { platform: 'linux', version: '0.0.0', dataDir: '/data', logsDir: '/data/logs' } }),
          getSettings: async () => ({ ok: true, value: settings }),
          setSettings: async (change) => {
            window.cortexCalls.push(change);
            settings = { ...settings, ...change };
            return { ok: true, value: settings };
          },
          openLogs: async () => ({ ok: true, value: null }),
        });
      `);
      await page.goto(gw.gateway.consoleLoginUrl());
      await openPage(page, 'Settings');
      const toggle = page.getByRole('switch', { name: 'Start at login' });
      await toggle.waitFor({ timeout: 10_000 });
      await page.getByText('/data/logs', { exact: true }).waitFor();
      expect(await page.getByText('Start at login is a setting of the desktop app').count()).toBe(0);
      await toggle.click();
      await page.waitForFunction(() => (globalThis as unknown as { cortexCalls: unknown[] }).cortexCalls.length === 1);
      expect(await toggle.isChecked()).toBe(true);
      expect(await page.evaluate('window.cortexCalls')).toEqual([{ startAtLogin: true }]);
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-settings-desktop.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
