import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_SESSION_STORAGE_KEY } from '../../src/api/contract.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Debian's Chromium, headless, with the flags this sandbox needs (no network chatter, no sandbox as root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** The console page has spent its sign-in link: the secret is stored and the token is out of the address bar. */
export async function consoleSignedIn(page: Page): Promise<void> {
  // A function, not a string: the console's CSP forbids evaluating strings, which Playwright may need.
  await page.waitForFunction((key) => {
    // Runs in the page; the tests' TypeScript has no DOM types.
    const page = globalThis as unknown as {
      location: { pathname: string };
      localStorage: { getItem(key: string): string | null };
    };
    return page.location.pathname === '/app/' && !!page.localStorage.getItem(key);
  }, CONSOLE_SESSION_STORAGE_KEY);
}
