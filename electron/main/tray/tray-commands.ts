/**
 * What each tray menu item does, as plain functions over the gateway: tested in Node with a real
 * gateway; main.ts supplies the Electron pieces (clipboard, window, notifications). No electron import.
 */
import { detectClient, type ClientEnvironment, type Gateway, type Logger } from '../../../src/index.js';
import { connectClaudeDesktop, type ConnectClient } from './connect-claude.js';
import type { TrayState } from './tray-menu.js';

export interface TrayCommandDeps {
  gateway: () => Gateway | undefined;
  /** Opens (or focuses) the console, on a page when given (`access` for approvals). */
  openConsole: (page?: string) => void;
  copyText: (text: string) => void;
  quit: () => void;
  toggleStartAtLogin: () => Promise<void>;
  notify: (title: string, body: string) => void;
  /** Reflects changes in the tray at once (paused, Claude Desktop connected). */
  show: (next: Partial<TrayState>) => void;
  /** The current logger (the desktop app switches to its log file once that is open). */
  logger: () => Logger;
  /** The console API's connect operation (the one the console and the CLI call). */
  connectClient: ConnectClient;
}

/** Claude Desktop's state for the tray: installed? our entry pointing at this gateway? */
export async function claudeDesktopState(
  mcpUrl: string,
  environment?: ClientEnvironment,
): Promise<NonNullable<TrayState['claudeDesktop']>> {
  const view = await detectClient('claude-desktop', mcpUrl, environment ? { environment } : {});
  if (view.connected) return 'connected';
  return view.installed ? 'not-connected' : 'not-installed';
}

export function createTrayCommands(deps: TrayCommandDeps): (id: string) => Promise<void> {
  const failed = (what: string) => (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    deps.logger().warn(`${what} failed`, { error: message });
    deps.notify(`Could not ${what}`, message);
  };
  return async (id) => {
    const gateway = deps.gateway();
    const mcpUrl = gateway?.address?.mcpUrl;
    if (id === 'quit') return deps.quit();
    if (id === 'open') return deps.openConsole();
    if (id === 'approvals') return deps.openConsole('access');
    if (id === 'copy-url') return mcpUrl ? deps.copyText(mcpUrl) : undefined;
    if (id === 'start-at-login') return deps.toggleStartAtLogin().catch(failed('change start at login'));
    if (id === 'pause' || id === 'resume') {
      gateway?.setPaused(id === 'pause');
      return deps.show({ gateway: id === 'pause' ? 'paused' : 'running' });
    }
    if (id === 'connect-claude' && mcpUrl) {
      return connectClaudeDesktop({
        connect: deps.connectClient,
        notify: deps.notify,
        show: deps.show,
        failed: failed('connect Claude Desktop'),
      });
    }
    if (id.startsWith('restart:')) {
      await gateway?.restartBackend(id.slice('restart:'.length)).catch(failed('restart the server'));
    }
  };
}
