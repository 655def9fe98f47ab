import type { Page } from 'playwright-core';
import { CONSOLE_SESSION_STORAGE_KEY } from '../../src/api/contract.js';
import type { Gateway } from '../../src/index.js';
import { launchChromium } from './browser.js';

/** Chromium signed in to a gateway's console with its one-time link; closed when the scope ends. */
export async function signedIn(gateway: Gateway, viewport?: { width: number; height: number }) {
  const browser = await launchChromium();
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(gateway.consoleLoginUrl());
  await consoleSignedIn(page);
  return { page, browser, [Symbol.asyncDispose]: () => browser.close() };
}

/** The console page has spent its link: the secret is stored and the token is out of the address bar. */
export async function consoleSignedIn(page: Page) {
  await page.waitForFunction(
    `location.pathname === '/app/' && !!localStorage.getItem('${CONSOLE_SESSION_STORAGE_KEY}')`,
  );
}
