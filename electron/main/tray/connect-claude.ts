/**
 * The tray's "Connect to Claude Desktop": the connect operation comes in as a parameter, so the tray
 * calls the same operation as the console and the CLI (which adds, among others, the warning that
 * the gateway sits on a fallback port) and shows what it says. No electron import here.
 */
import type { ClientChangeView } from '../../../src/api/contract.js';
import type { ClientAppId } from '../../../src/index.js';
import type { TrayState } from './tray-menu.js';

/** Connects a client app to this gateway's MCP URL, answering the change and its warnings. */
export type ConnectClient = (client: ClientAppId) => Promise<ClientChangeView>;

export interface ConnectClaudeDeps {
  connect: ConnectClient;
  notify: (title: string, body: string) => void;
  show: (next: Partial<TrayState>) => void;
  /** Reports a failure (log and notification). */
  failed: (error: unknown) => void;
}

/** The notification for a connected app: what changed, then each warning, marked as one. */
export function connectedNote(change: ClientChangeView): { title: string; body: string } {
  return {
    title: 'Claude Desktop connected',
    body: [change.message, ...change.warnings.map((warning) => `Warning: ${warning}`)].join(' '),
  };
}

export async function connectClaudeDesktop(deps: ConnectClaudeDeps): Promise<void> {
  let change: ClientChangeView;
  try {
    change = await deps.connect('claude-desktop');
  } catch (error) {
    return deps.failed(error);
  }
  const note = connectedNote(change);
  deps.notify(note.title, note.body);
  deps.show({ claudeDesktop: 'connected' });
}
