import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { hasChromium } from '../helpers/browser.js';
import { allowInChromium, recordingBrowser } from '../helpers/consent-browser.js';
import { ownerSession } from '../helpers/oauth.js';
import { runCliIn } from '../helpers/home-cli.js';
import { nodeBackend, ROOT, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

// What Claude Desktop does after `cortex-gateway connect claude-desktop`: read its config and run
// the entry's command with its args over stdio. mcp-remote's browser is intercepted through BROWSER
// (no DISPLAY) and the consent page clicked in headless Chromium.
// Skipped only outside CI: under CI a missing Chromium must fail, not hide the test.
describe.skipIf(!hasChromium && !process.env.CI)('Claude Desktop through `connect claude-desktop`', () => {
  it('runs the written entry as is and reaches the gateway’s tools after consent', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const home = await mkdtemp(join(tmpdir(), 'cortex-claude-desktop-'));
    try {
      const configFile = join(home, '.config', 'Claude', 'claude_desktop_config.json');
      await mkdir(dirname(configFile), { recursive: true });
      await writeFile(configFile, JSON.stringify({ mcpServers: {}, globalShortcut: 'Ctrl+Space' }, null, 2) + '\n');

      const connected = await runCliIn(home, ['connect', 'claude-desktop', '--url', gw.mcpUrl.href]);
      expect(connected.code, connected.stderr).toBe(0);
      expect(connected.stdout).toMatch(/Quit Claude Desktop completely/);
      const config = JSON.parse(await readFile(configFile, 'utf8')) as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      const entry = config.mcpServers['cortex-gateway']!;
      expect(entry.args).toEqual(['-y', 'mcp-remote', gw.mcpUrl.href]);

      const browser = await recordingBrowser(home);
      // Exactly the entry's command and args. `npx -y mcp-remote` run from the project folder uses
      // the mcp-remote devDependency; npm_config_offline proves it never reaches the registry. The
      // PATH is what an app opened from the desktop gets, plus the folder of the npx we wrote (its
      // `#!/usr/bin/env node` needs a node; see the README about Node outside the system folders).
      const transport = new StdioClientTransport({
        command: entry.command,
        args: entry.args,
        cwd: ROOT,
        env: {
          HOME: home,
          PATH: [dirname(entry.command), '/usr/bin', '/bin'].join(':'),
          BROWSER: browser.script,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
        },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const client = new Client({ name: 'claude-desktop-stand-in', version: '1' });
      const connecting = client.connect(transport, { timeout: 90_000 });
      try {
        const authorizationUrl = await browser.opened(() => `stderr: ${stderr.slice(-800)}`, 60_000);
        expect(new URL(authorizationUrl).origin).toBe(gw.mcpUrl.origin);
        await allowInChromium(authorizationUrl, (url) => url.pathname === '/oauth/callback', {
          owner: await ownerSession(gw.gateway),
          context: () => stderr.slice(-800),
        });
        await connecting;
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('toy__echo');
        const result = await client.callTool({ name: 'toy__echo', arguments: { text: 'from Claude Desktop' } });
        expect(text(result)).toBe('from Claude Desktop');
        expect(stderr).not.toMatch(/ENOTCACHED|registry\.npmjs\.org/);
      } finally {
        await client.close();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 120_000);
});
