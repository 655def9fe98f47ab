import type { Gateway } from '../../src/index.js';
import { consoleSignedIn, launchChromium } from './browser.js';

export { consoleSignedIn };

/** Chromium signed in to a gateway's console with its one-time link; closed when the scope ends. */
export async function signedIn(gateway: Gateway, viewport?: { width: number; height: number }) {
  const browser = await launchChromium();
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(gateway.consoleLoginUrl());
  await consoleSignedIn(page);
  return { page, browser, [Symbol.asyncDispose]: () => browser.close() };
}
