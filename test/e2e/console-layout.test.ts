import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/index.js';
import { hasChromium } from '../helpers/browser.js';
import { signedIn } from '../helpers/console-browser.js';
import { connectClient, nodeBackend, ROOT, TOY, waitFor } from '../helpers/gateway.js';
import { approve, MemoryOAuthProvider, ownerSession } from '../helpers/oauth.js';

const CONSOLE = join(ROOT, 'dist/renderer');
/** Git-ignored (test-results/ is in .gitignore): look at them after a run. */
const SHOTS = join(ROOT, 'test-results', 'screenshots');
/** The narrowest window the console is made for, and a common laptop one. */
const WIDTHS = [900, 1280] as const;
/** The type scale of styles.css (--text-xs … --text-3xl), in px. */
const SCALE = ['12px', '13px', '14px', '16px', '20px', '24px', '28px'];

// The page as the test's TypeScript sees it (it has no DOM types); these run in the browser.
interface BrowserElement {
  children: ArrayLike<BrowserElement>;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  tagName: string;
  className: unknown;
  contains(other: unknown): boolean;
  getClientRects(): ArrayLike<unknown>;
}
interface BrowserWindow {
  innerWidth: number;
  document: {
    documentElement: { scrollWidth: number };
    body: BrowserElement;
    elementFromPoint(x: number, y: number): unknown;
  };
  getComputedStyle(element: BrowserElement): { fontSize: string; visibility: string };
}

/** How far the page reaches past the window's right edge (0: it fits). */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as BrowserWindow;
    return w.document.documentElement.scrollWidth - w.innerWidth;
  });

/** Visible elements holding text of their own whose font size is off the scale. */
const offScale = (page: Page) =>
  page.evaluate((scale) => {
    const w = globalThis as unknown as BrowserWindow;
    const found: string[] = [];
    const visit = (element: BrowserElement) => {
      const ownText = Array.from(element.childNodes).some((n) => n.nodeType === 3 && n.textContent?.trim());
      const style = w.getComputedStyle(element);
      if (ownText && element.getClientRects().length > 0 && style.visibility !== 'hidden') {
        if (!scale.includes(style.fontSize))
          found.push(`${element.tagName}.${String(element.className)} ${style.fontSize}`);
      }
      for (const child of Array.from(element.children)) visit(child);
    };
    visit(w.document.body);
    return found;
  }, SCALE);

async function shoot(page: Page, name: string, width: number) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
}

/** Every page as the owner sees it with something on it: servers (one failing), tools, an app, a token, a call. */
async function furnishedGateway() {
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-layout-data-'));
  const failing = {
    command: process.execPath,
    args: [
      '-e',
      `console.error('GITHUB_PERSONAL_ACCESS_TOKEN is not set: export it or add it under env'); process.exit(2)`,
    ],
  };
  const content = { mcpServers: { toy: nodeBackend(TOY), 'github-issues': failing }, gateway: { port: 0 } };
  const configPath = join(dataDir, 'cortex.config.json');
  await writeFile(configPath, JSON.stringify(content, null, 2));
  const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath, dataDir });
  const address = await gateway.start();
  await waitFor(() => gateway.backendStatuses().find((s) => s.name === 'toy')?.state === 'ready', 'toy ready');

  // An application that signed in with OAuth, with read access to toy.
  const provider = new MemoryOAuthProvider('http://127.0.0.1:53997/callback', 'Layout Test App');
  const first = new StreamableHTTPClientTransport(new URL(address.mcpUrl), { authProvider: provider });
  await new Client({ name: 'app', version: '1' }).connect(first).catch(() => {});
  const callback = await approve(provider.authorizationUrl!, await ownerSession(gateway), ['mcp:toy:read']);
  await first.finishAuth(callback.searchParams.get('code')!);
  const app = new Client({ name: 'app', version: '1' });
  await app.connect(new StreamableHTTPClientTransport(new URL(address.mcpUrl), { authProvider: provider }));
  await app.listTools();
  await app.close();

  // A personal token, and a call made with it for the activity page.
  const { token } = await gateway.createPersonalToken({
    name: 'nightly backup script',
    scopes: ['*'],
    ttlSeconds: 600,
  });
  await using session = await connectClient(new URL(address.mcpUrl), token);
  await session.client.callTool({ name: 'toy__echo', arguments: { text: 'hello' } });
  return { gateway, dataDir };
}

/** Each page of the sidebar, and what shows once it has loaded. */
const PAGES: { label: string; name: string; loaded: (page: Page) => Locator }[] = [
  { label: 'Overview', name: 'overview', loaded: (p) => p.getByRole('table', { name: 'Apps to connect' }) },
  {
    label: 'Servers',
    name: 'servers',
    loaded: (p) => p.getByRole('row', { name: /github-issues/ }).locator('.last-error'),
  },
  { label: 'Tools & scopes', name: 'tools', loaded: (p) => p.getByRole('table', { name: 'Tools of toy' }) },
  {
    label: 'Clients & access',
    name: 'access',
    loaded: (p) => p.getByRole('table', { name: 'Personal access tokens' }).getByText('nightly backup script'),
  },
  { label: 'Activity', name: 'activity', loaded: (p) => p.getByRole('row', { name: /toy__echo/ }) },
  { label: 'Settings', name: 'settings', loaded: (p) => p.getByText('Files and logs') },
];

async function openPage(page: Page, label: string) {
  await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
}

/**
 * The console from 900 px up: every page fits the window (nothing reaches past its right edge),
 * uses only the type scale, and is photographed at 900 and 1280 px for a person to look at.
 */
describe.skipIf(!hasChromium && !process.env.CI)('console layout (in Chromium)', () => {
  let furnished: { gateway: Gateway; dataDir: string };
  beforeAll(async () => {
    // CI builds before testing; a local run may not have.
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
    furnished = await furnishedGateway();
  }, 60_000);
  afterAll(() => furnished?.gateway.stop());

  it('at 900 px shows every action of the Servers table inside the window, unclipped and clickable', async () => {
    await using browser = await signedIn(furnished.gateway, { width: 900, height: 800 });
    const { page } = browser;
    await openPage(page, 'Servers');
    await PAGES[1]!.loaded(page).waitFor({ timeout: 15_000 });
    const table = page.getByRole('table', { name: 'MCP servers' });
    // The actions the owner needs on a running stdio server: all five.
    for (const name of ['Edit', 'Logs', 'Restart', 'Disable', 'Remove']) {
      const buttons = table.getByRole('button', { name, exact: true });
      expect(await buttons.count()).toBe(2);
      for (const button of await buttons.all()) {
        await button.scrollIntoViewIfNeeded();
        const box = (await button.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(900);
        // Nothing covers or clips it: the point at its centre belongs to the button.
        const hit = await button.evaluate(
          (element, [x, y]) => {
            const w = globalThis as unknown as BrowserWindow;
            return (
              element === w.document.elementFromPoint(x!, y!) || element.contains(w.document.elementFromPoint(x!, y!))
            );
          },
          [box.x + box.width / 2, box.y + box.height / 2],
        );
        expect(hit, `${name} is hidden at its centre`).toBe(true);
      }
    }
    // The table fits its card: its wrapper has nothing scrolled out of sight.
    const hidden = await table.evaluate((element) => {
      const wrap = (element as unknown as { parentElement: { scrollWidth: number; clientWidth: number } })
        .parentElement;
      return wrap.scrollWidth - wrap.clientWidth;
    });
    expect(hidden).toBeLessThanOrEqual(0);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
  }, 60_000);

  for (const width of WIDTHS) {
    it(`at ${width} px every page fits the window and keeps to the type scale`, async () => {
      await using browser = await signedIn(furnished.gateway, { width, height: 900 });
      const { page } = browser;
      for (const { label, name, loaded } of PAGES) {
        await openPage(page, label);
        await loaded(page).first().waitFor({ timeout: 15_000 });
        await shoot(page, name, width);
        expect(await overflow(page), `${name} overflows at ${width} px`).toBeLessThanOrEqual(0);
        expect(await offScale(page), `${name} at ${width} px`).toEqual([]);
      }
      // The forms, open: adding a server (with a field error) and creating a token.
      await openPage(page, 'Servers');
      await page.getByRole('button', { name: 'Add server' }).click();
      const form = page.getByRole('form', { name: 'Add an MCP server' });
      await form.getByRole('button', { name: 'Add server' }).click();
      await form.getByText('Give the server a name.').waitFor();
      await shoot(page, 'servers-add', width);
      expect(await overflow(page), `the server form overflows at ${width} px`).toBeLessThanOrEqual(0);
      expect(await offScale(page)).toEqual([]);
      await openPage(page, 'Clients & access');
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.getByRole('form', { name: 'Create a personal access token' }).getByLabel('mcp:toy:read').waitFor();
      await shoot(page, 'access-create-token', width);
      expect(await overflow(page), `the token form overflows at ${width} px`).toBeLessThanOrEqual(0);

      // The sign-in page, in a browser without a session.
      const other = await (await browser.browser.newContext({ viewport: { width, height: 900 } })).newPage();
      await other.goto(new URL('/app/', furnished.gateway.address!.origin).href);
      await other.getByRole('heading', { name: 'Sign in to Cortex Gateway' }).waitFor({ timeout: 10_000 });
      await shoot(other, 'sign-in', width);
      expect(await overflow(other)).toBeLessThanOrEqual(0);
      expect(await offScale(other)).toEqual([]);
    }, 180_000);
  }

  it('puts an API refusal next to the field it names, with its message as the API gave it', async () => {
    await using browser = await signedIn(furnished.gateway, { width: 900, height: 900 });
    const { page } = browser;
    await openPage(page, 'Settings');
    await page.getByRole('radio', { name: 'ngrok', exact: true }).check();
    await page.getByLabel('ngrok domain').fill('https://not a host/');
    await page.getByRole('button', { name: 'Save tunnel settings' }).click();
    const field = page.locator('label.field', { has: page.getByLabel('ngrok domain') });
    const error = field.locator('.field-error');
    await error.waitFor({ timeout: 10_000 });
    // The same words the API answered, whatever they are: the page does not rewrite them.
    const answer = (await fetch(new URL('/api/settings', furnished.gateway.address!.origin), {
      method: 'PUT',
      headers: { authorization: `Bearer ${furnished.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tunnel: { provider: 'ngrok', autostart: false, domain: 'https://not a host/' } }),
    }).then((r) => r.json())) as { error: { message: string; field: string } };
    expect(answer.error.field).toBe('gateway.tunnel.domain');
    expect(await error.textContent()).toBe(answer.error.message);
    await shoot(page, 'settings-field-error', 900);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
  }, 60_000);
});
