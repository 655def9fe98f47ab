import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parseConfig } from '../../src/config/load.js';
import { hasChromium } from '../helpers/browser.js';
import { allowInChromium, recordingBrowser } from '../helpers/consent-browser.js';
import { ownerSession } from '../helpers/oauth.js';
import { runCliIn } from '../helpers/home-cli.js';
import { nodeBackend, ROOT, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);

// What Claude Desktop does after `cortex-gateway connect claude-desktop`: read its config and run
// the entry's command with its args over stdio. mcp-remote's browser is intercepted through BROWSER
// (no DISPLAY) and the consent page clicked in headless Chromium.
// Skipped only outside CI: under CI a missing Chromium must fail, not hide the test.
describe.skipIf(!hasChromium && !process.env.CI)('Claude Desktop through `connect claude-desktop`', () => {
  it('runs the written entry as is: approved once, named Claude Desktop, and a server added later needs no new sign-in', async () => {
    const toy = nodeBackend(TOY);
    await using gw = await startGateway({ toy });
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
      expect(entry.args.slice(0, 4)).toEqual(['-y', 'mcp-remote', gw.mcpUrl.href, '--static-oauth-client-metadata']);

      // Exactly the entry's command and args. `npx -y mcp-remote` run from the project folder uses
      // the mcp-remote devDependency; npm_config_offline proves it never reaches the registry. The
      // PATH is what an app opened from the desktop gets, plus the folder of the npx we wrote (its
      // `#!/usr/bin/env node` needs a node; see the README about Node outside the system folders).
      // Each start is Claude Desktop (re)starting the entry, with mcp-remote's sign-in kept in HOME.
      const start = (browserScript: string) => {
        const transport = new StdioClientTransport({
          command: entry.command,
          args: entry.args,
          cwd: ROOT,
          env: {
            HOME: home,
            PATH: [dirname(entry.command), '/usr/bin', '/bin'].join(':'),
            BROWSER: browserScript,
            npm_config_offline: 'true',
            npm_config_update_notifier: 'false',
          },
          stderr: 'pipe',
        });
        const output = { stderr: '' };
        transport.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
        const client = new Client({ name: 'claude-desktop-stand-in', version: '1' });
        return { client, output, connecting: client.connect(transport, { timeout: 90_000 }) };
      };

      const browser = await recordingBrowser(home);
      const first = start(browser.script);
      try {
        const authorizationUrl = await browser.opened(() => `stderr: ${first.output.stderr.slice(-800)}`, 60_000);
        expect(new URL(authorizationUrl).origin).toBe(gw.mcpUrl.origin);
        await allowInChromium(authorizationUrl, (url) => url.pathname === '/oauth/callback', {
          owner: await ownerSession(gw.gateway),
          context: () => first.output.stderr.slice(-800),
        });
        await first.connecting;
        expect(await names(first.client)).toContain('toy__echo');
        const result = await first.client.callTool({ name: 'toy__echo', arguments: { text: 'from Claude Desktop' } });
        expect(text(result)).toBe('from Claude Desktop');
        expect(first.output.stderr).not.toMatch(/ENOTCACHED|registry\.npmjs\.org/);
      } finally {
        await first.client.close();
      }
      // The owner sees the app by its name, not mcp-remote's own ("MCP CLI Proxy").
      const clients = gw.gateway.authorizationServer!.clients();
      expect(clients.map((c) => c.clientName)).toEqual(['Claude Desktop']);

      // The owner adds a server; Claude Desktop starts again: it connects on the sign-in it has,
      // no browser, no consent page, and the new server stays off for it.
      await gw.gateway.reconfigure(
        parseConfig({ mcpServers: { toy, extra: nodeBackend(TOY, [], { TOY_NAME: 'extra' }) }, gateway: { port: 0 } }),
      );
      await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'extra ready');
      const secondBrowser = await recordingBrowser(join(home, '.config'));
      const second = start(secondBrowser.script);
      try {
        // Fails at once, not at the connect timeout, if mcp-remote goes to sign in again.
        let settled = false;
        const signingInAgain = (async () => {
          while (!settled) {
            if (secondBrowser.wasOpened()) throw new Error('mcp-remote opened the browser to sign in again');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })();
        await Promise.race([second.connecting.finally(() => (settled = true)), signingInAgain]);
        expect(secondBrowser.wasOpened(), second.output.stderr.slice(-800)).toBe(false);
        const listed = await names(second.client);
        expect(listed).toContain('toy__echo');
        expect(listed).not.toContain('extra__echo');

        // The owner turns the new server on for Claude Desktop: its next list has it.
        const api = await fetch(new URL(`/api/clients/${clients[0]!.clientId}/scopes`, gw.mcpUrl), {
          method: 'PUT',
          headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ scopes: [...clients[0]!.scopes, 'mcp:extra:read'] }),
        });
        expect(api.status).toBe(200);
        expect(await names(second.client)).toContain('extra__echo');
        expect(gw.gateway.authorizationServer!.clients()).toHaveLength(1);
      } finally {
        await second.client.close();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 180_000);
});
