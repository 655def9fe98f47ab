import { describe, expect, it } from 'vitest';
import { buildTrayMenu, trayIconState, type TrayState } from './tray-menu.js';

const running = (backends: TrayState['backends']): TrayState => ({
  gateway: 'running',
  mcpUrl: 'http://127.0.0.1:3590/mcp',
  backends,
});

describe('trayIconState', () => {
  it('is ok when every enabled backend is ready', () => {
    expect(
      trayIconState(
        running([
          { name: 'a', state: 'ready', toolCount: 3 },
          { name: 'b', state: 'disabled', toolCount: 0 },
        ]),
      ),
    ).toBe('ok');
  });

  it('is warn when a backend is down, degraded or still connecting', () => {
    for (const state of ['down', 'degraded', 'connecting'] as const) {
      expect(trayIconState(running([{ name: 'a', state, toolCount: 0 }]))).toBe('warn');
    }
  });

  it('is error when the gateway is stopped or paused', () => {
    expect(trayIconState({ gateway: 'stopped', backends: [] })).toBe('error');
    expect(trayIconState({ gateway: 'paused', backends: [] })).toBe('error');
  });
});

describe('buildTrayMenu', () => {
  it('lists each backend with its state and tool count', () => {
    const menu = buildTrayMenu(running([{ name: 'everything', state: 'ready', toolCount: 12 }]));
    expect(menu.find((i) => i.id === 'backend:everything')?.label).toBe('● everything — ready · 12 tools');
  });

  it('shows the last error of a backend that is down and offers a restart', () => {
    const menu = buildTrayMenu(running([{ name: 'gh', state: 'down', toolCount: 0, lastError: 'process exited' }]));
    const item = menu.find((i) => i.id === 'backend:gh')!;
    expect(item.label).toBe('○ gh — down');
    expect(item.submenu?.map((s) => s.label)).toEqual(['process exited', 'Restart']);
  });

  it('disables Copy MCP URL when the gateway is not running', () => {
    const menu = buildTrayMenu({ gateway: 'stopped', backends: [] });
    expect(menu.find((i) => i.id === 'copy-url')?.enabled).toBe(false);
  });

  it('explains what to do when no server is configured', () => {
    const menu = buildTrayMenu(running([]));
    expect(menu.some((i) => i.id === 'no-backends')).toBe(true);
  });

  it('always ends with Quit', () => {
    expect(buildTrayMenu(running([])).at(-1)?.id).toBe('quit');
  });
});
