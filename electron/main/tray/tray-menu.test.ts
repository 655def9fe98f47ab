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

  it.each(['down', 'degraded', 'connecting'] as const)('is warn when a backend is %s', (state) => {
    expect(
      trayIconState(
        running([
          { name: 'a', state: 'ready', toolCount: 3 },
          { name: 'b', state, toolCount: 0 },
        ]),
      ),
    ).toBe('warn');
  });

  it.each(['stopped', 'paused'] as const)('is error when the gateway is %s, whatever the backends', (gateway) => {
    expect(trayIconState({ gateway, backends: [{ name: 'a', state: 'ready', toolCount: 3 }] })).toBe('error');
  });
});

describe('buildTrayMenu', () => {
  it('opens with a disabled status header counting the ready servers', () => {
    const menu = buildTrayMenu(
      running([
        { name: 'a', state: 'ready', toolCount: 1 },
        { name: 'b', state: 'connecting', toolCount: 0 },
        { name: 'c', state: 'disabled', toolCount: 0 },
      ]),
    );
    expect(menu[0]).toEqual({ id: 'status', label: 'Cortex Gateway — 1/2 servers ready', enabled: false });
  });

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

  it('enables Copy MCP URL once the gateway serves one', () => {
    expect(buildTrayMenu(running([])).find((i) => i.id === 'copy-url')?.enabled).toBe(true);
  });

  it('disables Copy MCP URL when the gateway is not running', () => {
    const menu = buildTrayMenu({ gateway: 'stopped', backends: [] });
    expect(menu.find((i) => i.id === 'copy-url')?.enabled).toBe(false);
  });

  it('disables Copy MCP URL while there is no URL yet', () => {
    const menu = buildTrayMenu({ gateway: 'running', backends: [] });
    expect(menu.find((i) => i.id === 'copy-url')?.enabled).toBe(false);
  });

  it('does not offer to restart a disabled backend', () => {
    const menu = buildTrayMenu(running([{ name: 'off', state: 'disabled', toolCount: 0 }]));
    const restart = menu.find((i) => i.id === 'backend:off')?.submenu?.find((s) => s.id === 'restart:off');
    expect(restart?.enabled).toBe(false);
  });

  it('explains what to do when no server is configured', () => {
    const menu = buildTrayMenu(running([]));
    expect(menu.some((i) => i.id === 'no-backends')).toBe(true);
  });

  it('offers Pause while serving and Resume while paused', () => {
    expect(buildTrayMenu(running([])).some((i) => i.id === 'pause')).toBe(true);
    const paused = buildTrayMenu({ gateway: 'paused', mcpUrl: 'http://127.0.0.1:3590/mcp', backends: [] });
    expect(paused.some((i) => i.id === 'resume')).toBe(true);
    expect(paused.some((i) => i.id === 'pause')).toBe(false);
    expect(paused[0]!.label).toBe('Cortex Gateway — paused: clients are refused');
  });

  it('offers to connect Claude Desktop, and shows it connected once it is', () => {
    const offer = buildTrayMenu({ ...running([]), claudeDesktop: 'not-connected' }).find(
      (i) => i.id === 'connect-claude',
    );
    expect(offer).toMatchObject({ label: 'Connect to Claude Desktop', enabled: true });
    const done = buildTrayMenu({ ...running([]), claudeDesktop: 'connected' }).find((i) => i.id === 'connect-claude');
    expect(done).toMatchObject({ label: 'Connected to Claude Desktop ✓', enabled: false });
    const absent = buildTrayMenu({ ...running([]), claudeDesktop: 'not-installed' }).find(
      (i) => i.id === 'connect-claude',
    );
    expect(absent?.enabled).toBe(false);
  });

  it('shows Start at login as a checkbox with its setting', () => {
    expect(buildTrayMenu({ ...running([]), startAtLogin: true }).find((i) => i.id === 'start-at-login')).toMatchObject({
      type: 'checkbox',
      checked: true,
    });
    expect(buildTrayMenu(running([])).find((i) => i.id === 'start-at-login')?.checked).toBe(false);
  });

  it('lists waiting access requests first among the actions, only when there are some', () => {
    expect(buildTrayMenu({ ...running([]), pendingApprovals: 2 }).find((i) => i.id === 'approvals')?.label).toBe(
      '2 access requests waiting — review…',
    );
    expect(buildTrayMenu(running([])).some((i) => i.id === 'approvals')).toBe(false);
  });

  it('always ends with Quit', () => {
    expect(buildTrayMenu(running([])).at(-1)?.id).toBe('quit');
  });
});
