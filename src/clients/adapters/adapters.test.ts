import { describe, expect, it } from 'vitest';
import { claudeCode } from './claude-code.js';
import { claudeDesktop } from './claude-desktop.js';
import { cursor } from './cursor.js';
import { geminiCli } from './gemini-cli.js';
import type { ClientAdapter, ClientEnvironment } from '../types.js';
import { vscode } from './vscode.js';
import { windsurf } from './windsurf.js';

const mac: ClientEnvironment = { platform: 'darwin', homedir: '/Users/ada', env: {} };
const linux: ClientEnvironment = { platform: 'linux', homedir: '/home/ada', env: {} };
const windows: ClientEnvironment = {
  platform: 'win32',
  homedir: 'C:\\Users\\ada',
  env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' },
};
const nothing = () => false;

function path(adapter: ClientAdapter, environment: ClientEnvironment, exists: (p: string) => boolean = nothing) {
  return adapter.configPath(environment, exists);
}

describe('Claude Desktop config path', () => {
  it('macOS: ~/Library/Application Support/Claude', () => {
    expect(path(claudeDesktop, mac)).toBe('/Users/ada/Library/Application Support/Claude/claude_desktop_config.json');
  });

  it('Windows: %APPDATA%\\Claude', () => {
    expect(path(claudeDesktop, windows)).toBe('C:\\Users\\ada\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
  });

  it('Windows without APPDATA set: the default Roaming folder under the profile', () => {
    expect(path(claudeDesktop, { ...windows, env: {} })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });

  it('Windows, installed from the Store (MSIX): the package LocalCache copy', () => {
    const msix = (p: string) => p === 'C:\\Users\\ada\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc';
    expect(path(claudeDesktop, windows, msix)).toBe(
      'C:\\Users\\ada\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });

  it('Linux: ~/.config/Claude, or $XDG_CONFIG_HOME/Claude', () => {
    expect(path(claudeDesktop, linux)).toBe('/home/ada/.config/Claude/claude_desktop_config.json');
    expect(path(claudeDesktop, { ...linux, env: { XDG_CONFIG_HOME: '/xdg' } })).toBe(
      '/xdg/Claude/claude_desktop_config.json',
    );
  });

  it('Linux: a relative XDG_CONFIG_HOME is ignored', () => {
    expect(path(claudeDesktop, { ...linux, env: { XDG_CONFIG_HOME: 'rel' } })).toBe(
      '/home/ada/.config/Claude/claude_desktop_config.json',
    );
  });

  it('install markers: the app bundle on macOS, the Squirrel and MSIX folders on Windows', () => {
    expect(claudeDesktop.installMarkers(mac)).toContain('/Applications/Claude.app');
    expect(claudeDesktop.installMarkers(windows)).toEqual(
      expect.arrayContaining([
        'C:\\Users\\ada\\AppData\\Local\\AnthropicClaude',
        'C:\\Users\\ada\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc',
      ]),
    );
    expect(claudeDesktop.installMarkers(linux)).toContain('/home/ada/.local/share/applications/claude-desktop.desktop');
  });
});

describe('Claude Code config path', () => {
  it('~/.claude.json on every platform', () => {
    expect(path(claudeCode, mac)).toBe('/Users/ada/.claude.json');
    expect(path(claudeCode, linux)).toBe('/home/ada/.claude.json');
    expect(path(claudeCode, windows)).toBe('C:\\Users\\ada\\.claude.json');
  });

  it('$CLAUDE_CONFIG_DIR/.claude.json when set', () => {
    expect(path(claudeCode, { ...linux, env: { CLAUDE_CONFIG_DIR: '/cc' } })).toBe('/cc/.claude.json');
  });
});

describe('Cursor config path', () => {
  it('~/.cursor/mcp.json on every platform', () => {
    expect(path(cursor, mac)).toBe('/Users/ada/.cursor/mcp.json');
    expect(path(cursor, linux)).toBe('/home/ada/.cursor/mcp.json');
    expect(path(cursor, windows)).toBe('C:\\Users\\ada\\.cursor\\mcp.json');
  });

  it('installed when its user data folder exists', () => {
    expect(cursor.installMarkers(mac)).toContain('/Users/ada/Library/Application Support/Cursor');
    expect(cursor.installMarkers(windows)).toContain('C:\\Users\\ada\\AppData\\Roaming\\Cursor');
    expect(cursor.installMarkers(linux)).toContain('/home/ada/.config/Cursor');
  });
});

describe('VS Code config path', () => {
  it('the user mcp.json in Code/User', () => {
    expect(path(vscode, mac)).toBe('/Users/ada/Library/Application Support/Code/User/mcp.json');
    expect(path(vscode, windows)).toBe('C:\\Users\\ada\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(path(vscode, linux)).toBe('/home/ada/.config/Code/User/mcp.json');
    expect(path(vscode, { ...linux, env: { XDG_CONFIG_HOME: '/xdg' } })).toBe('/xdg/Code/User/mcp.json');
  });
});

describe('Windsurf config path', () => {
  it('~/.codeium/windsurf/mcp_config.json on every platform', () => {
    expect(path(windsurf, mac)).toBe('/Users/ada/.codeium/windsurf/mcp_config.json');
    expect(path(windsurf, linux)).toBe('/home/ada/.codeium/windsurf/mcp_config.json');
    expect(path(windsurf, windows)).toBe('C:\\Users\\ada\\.codeium\\windsurf\\mcp_config.json');
  });
});

describe('Gemini CLI config path', () => {
  it('~/.gemini/settings.json on every platform', () => {
    expect(path(geminiCli, mac)).toBe('/Users/ada/.gemini/settings.json');
    expect(path(geminiCli, linux)).toBe('/home/ada/.gemini/settings.json');
    expect(path(geminiCli, windows)).toBe('C:\\Users\\ada\\.gemini\\settings.json');
  });
});

describe('entries', () => {
  const url = 'http://127.0.0.1:3590/mcp';
  it.each([
    [claudeCode, { type: 'http', url }],
    [cursor, { url }],
    [vscode, { type: 'http', url }],
    [windsurf, { serverUrl: url }],
    [geminiCli, { httpUrl: url }],
  ] as const)('%s: the documented shape, and its URL read back', async (adapter, shape) => {
    const entry = await adapter.entry(url, linux);
    expect(entry.value).toEqual(shape);
    expect(adapter.entryUrl(entry.value)).toBe(url);
  });

  it('Claude Desktop: the URL is read from mcp-remote arguments', () => {
    expect(claudeDesktop.entryUrl({ command: '/usr/bin/npx', args: ['-y', 'mcp-remote', url] })).toBe(url);
    expect(claudeDesktop.entryUrl({ command: 'x' })).toBeUndefined();
  });
});
