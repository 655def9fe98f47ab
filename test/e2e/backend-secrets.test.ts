import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';
import { createMemorySecretStore } from '../../src/store/secrets.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { nodeBackend, ROOT, waitFor } from '../helpers/gateway.js';

const CONSOLE = join(ROOT, 'dist/renderer');
const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');

// The add-server form's "secret" toggle: the value reaches the secret store, never the config file.
describe.skipIf(!hasChromium && !process.env.CI)('secret environment variables in the console (Chromium)', () => {
  beforeAll(() => {
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('stores a variable marked secret in the secret store, not in the config file', async () => {
    const content = { mcpServers: {}, gateway: { port: 0 } };
    const configPath = join(await mkdtemp(join(tmpdir(), 'cortex-console-')), 'cortex.config.json');
    await writeFile(configPath, JSON.stringify(content, null, 2));
    const secretStore = createMemorySecretStore();
    const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath, secretStore });
    await gateway.start();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1000, height: 900 });
      await page.goto(gateway.consoleLoginUrl());
      await page.getByRole('navigation').getByRole('link', { name: 'Servers', exact: true }).click();
      await page.getByRole('button', { name: 'Add server' }).click();
      await page.getByLabel('Name', { exact: true }).fill('gh');
      await page.getByLabel('Command', { exact: true }).fill(process.execPath);
      await page.getByLabel('Arguments', { exact: true }).fill(ENV_SERVER);
      await page.getByRole('button', { name: '+ Add variable' }).click();
      // A credential-looking name turns the toggle on by itself; the value field hides what is typed.
      await page.getByLabel('Variable name 1').fill('GITHUB_TOKEN');
      await page.getByLabel('Variable value 1').fill('ghp_from_the_browser');
      expect(await page.getByLabel('Variable 1 is secret').isChecked()).toBe(true);
      expect(await page.getByLabel('Variable value 1').getAttribute('type')).toBe('password');
      await page.getByRole('button', { name: '+ Add variable' }).click();
      await page.getByLabel('Variable name 2').fill('MODE');
      await page.getByLabel('Variable value 2').fill('fast');
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-add-server-secret.png') });
      await page.getByRole('form', { name: 'Add an MCP server' }).getByRole('button', { name: 'Add server' }).click();
      await waitFor(() => gateway.backendStatuses().find((s) => s.name === 'gh')?.state === 'ready', 'gh ready');

      const saved = JSON.parse(await readFile(configPath, 'utf8')) as { mcpServers: { gh: unknown } };
      expect(saved.mcpServers.gh).toEqual({
        ...nodeBackend(ENV_SERVER),
        env: { GITHUB_TOKEN: '${secret:gh.env.GITHUB_TOKEN}', MODE: 'fast' },
      });
      expect(await secretStore.get('gh.env.GITHUB_TOKEN')).toBe('ghp_from_the_browser');
    } finally {
      await browser.close();
      await gateway.stop();
    }
  });
});
