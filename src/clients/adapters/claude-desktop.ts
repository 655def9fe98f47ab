import { requireNodeRuntime } from '../npx.js';
import type { JsonValue } from '../jsonc.js';
import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/** The MSIX (Microsoft Store) package: its writes to %APPDATA% land in the package's private copy. */
const MSIX_PACKAGE = 'Claude_pzs8sxrjxfjjc';
const CONFIG_FILE = 'claude_desktop_config.json';

/**
 * What mcp-remote registers and asks for, given with `--static-oauth-client-metadata` (merged over
 * its defaults; mcp-remote README, "Static OAuth Client Metadata"):
 * - `client_name`: the owner sees "Claude Desktop" on the consent page and in the console, not
 *   mcp-remote's own "MCP CLI Proxy".
 * - `scope`: one the gateway does not list, so it grants nothing by itself. Left alone, mcp-remote
 *   asks for the scopes the gateway lists, and signs in again (a browser window) whenever that
 *   list changes, which is whenever a server is added. Pinned, what it asks for never changes; what
 *   it gets is what the owner grants, on the consent page the first time and in the console after.
 */
export const CLAUDE_DESKTOP_CLIENT_METADATA = JSON.stringify({ client_name: 'Claude Desktop', scope: 'mcp' });

/**
 * Claude Desktop launches only stdio commands from its config, so the entry runs `mcp-remote` (the
 * stdio ↔ Streamable HTTP bridge that also does the OAuth sign-in) through an absolute npx.
 */
export const claudeDesktop: ClientAdapter<'claude-desktop'> = {
  id: 'claude-desktop',
  name: 'Claude Desktop',
  configPath(environment, exists) {
    const p = pathsFor(environment);
    if (environment.platform === 'darwin') return p.home('Library', 'Application Support', 'Claude', CONFIG_FILE);
    if (environment.platform === 'win32') {
      // Installed from the Store (MSIX), the app reads the package's LocalCache copy, not %APPDATA%.
      if (exists(p.localAppData('Packages', MSIX_PACKAGE))) {
        return p.localAppData('Packages', MSIX_PACKAGE, 'LocalCache', 'Roaming', 'Claude', CONFIG_FILE);
      }
      return p.appData('Claude', CONFIG_FILE);
    }
    return p.xdgConfig('Claude', CONFIG_FILE);
  },
  installMarkers(environment) {
    const p = pathsFor(environment);
    if (environment.platform === 'darwin') {
      return ['/Applications/Claude.app', p.home('Applications', 'Claude.app'), p.electronUserData('Claude')];
    }
    if (environment.platform === 'win32') {
      return [p.localAppData('AnthropicClaude'), p.localAppData('Packages', MSIX_PACKAGE), p.appData('Claude')];
    }
    // No official Linux build: community packages install a desktop entry; the config folder counts too.
    return [
      p.xdgConfig('Claude'),
      p.xdgData('applications', 'claude-desktop.desktop'),
      '/usr/share/applications/claude-desktop.desktop',
    ];
  },
  serversKey: ['mcpServers'],
  async entry(url, environment) {
    const runtime = await requireNodeRuntime(environment);
    const args = ['-y', 'mcp-remote', url];
    // Claude Desktop on Windows starts npx.cmd through cmd.exe, which mangles arguments with spaces
    // and quotes (mcp-remote README): there the entry stays plain (the app shows as "MCP CLI Proxy").
    if (environment.platform !== 'win32') args.push('--static-oauth-client-metadata', CLAUDE_DESKTOP_CLIENT_METADATA);
    const value: { [key: string]: JsonValue } = { command: runtime.npx, args };
    // Claude Desktop, opened from the Dock or a menu, lacks the shell's PATH; npx's shebang needs node on it.
    if (runtime.path) value.env = { PATH: runtime.path };
    return { value, warnings: runtime.warnings };
  },
  entryUrl(entry) {
    if (!isObject(entry) || !Array.isArray(entry.args)) return undefined;
    const url = entry.args.find((arg) => typeof arg === 'string' && /^https?:\/\//.test(arg));
    return typeof url === 'string' ? url : undefined;
  },
  afterConnect:
    'Quit Claude Desktop completely (from its menu or tray icon, not just the window) and open it again; ' +
    'the first time, your browser opens the gateway consent page.',
};
