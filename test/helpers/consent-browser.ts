import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium } from './browser.js';
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
 * Opens the consent page in headless Chromium, clicks Allow, and waits until the browser lands on
 * the client's redirect (`landed`). Failures say where the browser was and show the page.
 */
export async function allowInChromium(
  authorizationUrl: string,
  landed: (url: URL) => boolean,
  options: { screenshot?: string; context?: () => string } = {},
): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 900, height: 700 });
    await page.goto(authorizationUrl);
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    await page.getByRole('button', { name: 'Allow' }).click();
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
