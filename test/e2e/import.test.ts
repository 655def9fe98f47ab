import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';
import { createMemorySecretStore } from '../../src/store/secrets.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { nodeBackend, ROOT, waitFor } from '../helpers/gateway.js';

const CONSOLE = join(ROOT, 'dist/renderer');
const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');

// Import from Claude Desktop in the console: pick servers, switch the app over, token into the store.
describe.skipIf(!hasChromium && !process.env.CI)('import from an app in the console (Chromium)', () => {
  beforeAll(() => {
    if (!existsSync(join(CONSOLE, 'index.html')))
      execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('imports the ticked servers and switches Claude Desktop to Cortex', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cortex-import-ui-'));
    const claudePath = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    await mkdir(dirname(claudePath), { recursive: true });
    const original = JSON.stringify(
      {
        theme: 'dark',
        mcpServers: {
          github: { ...nodeBackend(ENV_SERVER), env: { GITHUB_TOKEN: 'ghp_from_claude_desktop' } },
          broken: { foo: 'bar' },
        },
      },
      null,
      2,
    );
    await writeFile(claudePath, original);
    const content = { mcpServers: {}, gateway: { port: 0 } };
    const configPath = join(home, 'cortex.config.json');
    await writeFile(configPath, JSON.stringify(content));
    const secretStore = createMemorySecretStore();
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
    const gateway = createGateway(parseConfig(content), { consoleDir: CONSOLE, configPath, secretStore, env });
    await gateway.start();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1000, height: 1000 });
      await page.goto(gateway.consoleLoginUrl());
      await page.getByRole('navigation').getByRole('link', { name: 'Servers', exact: true }).click();
      await page.getByRole('button', { name: 'Import from an app…' }).click();
      await page.getByLabel('Import from').selectOption('claude-desktop');
      await page.getByText('kept encrypted: env.GITHUB_TOKEN').waitFor();
      expect(await page.getByLabel('Import github').isChecked()).toBe(true);
      expect(await page.getByLabel('Import broken').isDisabled()).toBe(true);
      await page.getByLabel(/Also switch Claude Desktop to Cortex/).check();
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-import.png') });
      await page.getByRole('button', { name: 'Import 1 server' }).click();
      await page.getByText('Imported github.').waitFor();
      await waitFor(() => gateway.backendStatuses().find((s) => s.name === 'github')?.state === 'ready', 'ready');
      await page
        .getByRole('row', { name: /github/ })
        .getByText('Ready')
        .waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(ROOT, 'test-results', 'console-import-done.png') });

      const claude = JSON.parse(await readFile(claudePath, 'utf8')) as { theme: string; mcpServers: object };
      expect(Object.keys(claude.mcpServers)).toEqual(['broken', 'cortex-gateway']);
      expect(claude.theme).toBe('dark');
      const backups = (await readdir(dirname(claudePath))).filter((f) => f.endsWith('.bak'));
      expect(await readFile(join(dirname(claudePath), backups[0]!), 'utf8')).toBe(original);
      expect(await readFile(configPath, 'utf8')).not.toContain('ghp_from_claude_desktop');
      expect(await secretStore.get('github.env.GITHUB_TOKEN')).toBe('ghp_from_claude_desktop');
    } finally {
      await browser.close();
      await gateway.stop();
    }
  });
});
