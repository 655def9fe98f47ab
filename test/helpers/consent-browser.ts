import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CONSOLE_SESSION_STORAGE_KEY } from '../../src/api/contract.js';
import { launchChromium } from './browser.js';
import type { ConsoleSession } from './console-session.js';
import { waitFor } from './gateway.js';

/**
 * A stand-in for the user's browser: clients that "open a browser" (mcp-remote through the `open`
 * package, honouring BROWSER) run this script instead, which only records the URL.
 */
export async function recordingBrowser(dir: string): Promise<{
  /** Put this in the client's environment as BROWSER. */
  script: string;
  /** Waits for the URL the client opened. */
  opened: (what: () => string, timeoutMs?: number) => Promise<string>;
  /** Whether the client has opened the browser so far. */
  wasOpened: () => boolean;
}> {
  const urlFile = join(dir, 'browser-url.txt');
  const script = join(dir, 'browser.sh');
  await writeFile(script, `#!/bin/sh\nprintf '%s' "$1" > '${urlFile}'\n`);
  await chmod(script, 0o755);
  return {
    script,
    wasOpened: () => existsSync(urlFile),
    async opened(what, timeoutMs = 30_000) {
      try {
        return await waitFor(
          async () => (await readFile(urlFile, 'utf8').catch(() => '')) || undefined,
          'the client to open the browser',
          timeoutMs,
        );
      } catch (error) {
        // The context (the client's stderr) as it is at the timeout, not when waiting began.
        throw new Error(`${(error as Error).message}: ${what()}`, { cause: error });
      }
    },
  };
}

/**
 * The owner's browser, signed in to the console: the session the console page would keep is put in
 * this origin's localStorage (the console itself is not served by every test gateway). The consent
 * page's script finds it there, shows the form, and sends the decision with it.
 */
async function holdOwnerSession(page: Page, origin: string, owner: ConsoleSession): Promise<void> {
  await page.goto(new URL('/healthz', origin).href);
  await page.evaluate(
    `localStorage.setItem(${JSON.stringify(CONSOLE_SESSION_STORAGE_KEY)}, ${JSON.stringify(owner.secret)})`,
  );
}

/**
 * Opens the consent page in headless Chromium as the owner (signed in to the console in that
 * browser), clicks Allow, and waits until the browser lands on the client's redirect (`landed`).
 * Failures say where the browser was and show the page.
 */
export async function allowInChromium(
  authorizationUrl: string,
  landed: (url: URL) => boolean,
  options: { owner: ConsoleSession; screenshot?: string; context?: () => string },
): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 900, height: 700 });
    await holdOwnerSession(page, new URL(authorizationUrl).origin, options.owner);
    await page.goto(authorizationUrl);
    const allow = page.getByRole('button', { name: 'Allow' });
    await allow.waitFor({ state: 'visible', timeout: 15_000 });
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    await allow.click();
    try {
      await page.waitForURL(landed, { timeout: 15_000 });
    } catch (error) {
      throw new Error(
        `still at ${page.url()}: ${(await page.content()).slice(0, 500)}; client: ${options.context?.() ?? ''}`,
        { cause: error },
      );
    }
  } finally {
    await browser.close();
  }
}
