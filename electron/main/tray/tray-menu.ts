/**
 * The tray menu as data: a pure function of gateway state, so it is unit-tested in Node and
 * main.ts only turns it into an Electron Menu. No electron import here.
 */
export type BackendState = 'connecting' | 'ready' | 'degraded' | 'down' | 'disabled';

export interface TrayState {
  gateway: 'running' | 'stopped' | 'paused';
  mcpUrl?: string;
  backends: ReadonlyArray<{ name: string; state: BackendState; toolCount: number; lastError?: string }>;
  /** Whether Claude Desktop's config has our entry; absent until detected. */
  claudeDesktop?: 'connected' | 'not-connected' | 'not-installed';
  startAtLogin?: boolean;
  /** Authorization requests (through the tunnel) waiting for the owner. */
  pendingApprovals?: number;
}

export interface TrayMenuItem {
  id: string;
  label: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  submenu?: TrayMenuItem[];
}

export type TrayIconState = 'ok' | 'warn' | 'error';

const DOT: Record<BackendState, string> = {
  ready: '●',
  connecting: '◌',
  degraded: '◐',
  down: '○',
  disabled: '–',
};

/** Green when every enabled backend is ready, amber when some are not, red when the gateway is not serving. */
export function trayIconState(state: TrayState): TrayIconState {
  if (state.gateway !== 'running') return 'error';
  const enabled = state.backends.filter((b) => b.state !== 'disabled');
  return enabled.every((b) => b.state === 'ready') ? 'ok' : 'warn';
}

export function trayTooltip(state: TrayState): string {
  if (state.gateway === 'paused') return 'Cortex Gateway — paused: clients are refused';
  if (state.gateway !== 'running') return `Cortex Gateway — ${state.gateway}`;
  const enabled = state.backends.filter((b) => b.state !== 'disabled');
  const ready = enabled.filter((b) => b.state === 'ready').length;
  return `Cortex Gateway — ${ready}/${enabled.length} servers ready`;
}

export function buildTrayMenu(state: TrayState): TrayMenuItem[] {
  const items: TrayMenuItem[] = [
    { id: 'status', label: trayTooltip(state), enabled: false },
    { id: 'sep-1', label: '', type: 'separator' },
  ];
  if (state.backends.length === 0) {
    items.push({ id: 'no-backends', label: 'No MCP servers yet — add one in Cortex', enabled: false });
  }
  for (const backend of state.backends) {
    const tools =
      backend.state === 'ready' || backend.toolCount > 0
        ? ` · ${backend.toolCount} tool${backend.toolCount === 1 ? '' : 's'}`
        : '';
    items.push({
      id: `backend:${backend.name}`,
      label: `${DOT[backend.state]} ${backend.name} — ${backend.state}${tools}`,
      type: 'submenu',
      submenu: [
        ...(backend.lastError
          ? [{ id: `backend-error:${backend.name}`, label: backend.lastError.slice(0, 120), enabled: false }]
          : []),
        {
          id: `restart:${backend.name}`,
          label: 'Restart',
          enabled: backend.state !== 'disabled' && state.gateway === 'running',
        },
      ],
    });
  }
  const serving = state.gateway === 'running';
  items.push({ id: 'sep-2', label: '', type: 'separator' });
  const pending = state.pendingApprovals ?? 0;
  if (pending > 0) {
    items.push({ id: 'approvals', label: `${pending} access request${pending === 1 ? '' : 's'} waiting — review…` });
  }
  items.push(
    { id: 'open', label: 'Open Cortex' },
    { id: 'copy-url', label: 'Copy MCP URL', enabled: serving && Boolean(state.mcpUrl) },
    state.claudeDesktop === 'connected'
      ? { id: 'connect-claude', label: 'Connected to Claude Desktop ✓', enabled: false }
      : {
          id: 'connect-claude',
          label: 'Connect to Claude Desktop',
          // Connecting writes the gateway's URL: there must be one.
          enabled: state.claudeDesktop !== 'not-installed' && Boolean(state.mcpUrl),
        },
    { id: 'sep-3', label: '', type: 'separator' },
  );
  if (state.gateway === 'paused') items.push({ id: 'resume', label: 'Resume gateway' });
  else items.push({ id: 'pause', label: 'Pause gateway', enabled: serving });
  items.push(
    { id: 'start-at-login', label: 'Start at login', type: 'checkbox', checked: state.startAtLogin === true },
    { id: 'sep-4', label: '', type: 'separator' },
    { id: 'quit', label: 'Quit Cortex Gateway' },
  );
  return items;
}
