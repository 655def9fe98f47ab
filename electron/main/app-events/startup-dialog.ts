/**
 * What the app says when it cannot start: a pure function, unit-tested in Node; main.ts hands the
 * result to Electron's dialog. No electron import here.
 */
import { InstanceLockedError } from '../../../src/index.js';

export interface StartupDialog {
  title: string;
  message: string;
  detail: string;
}

/** The dialog for a failed start; a gateway already serving the data folder is said plainly. */
export function startupFailureDialog(error: unknown): StartupDialog {
  if (error instanceof InstanceLockedError) {
    const { holder } = error;
    const where = holder.mcpUrl ? ` at ${holder.mcpUrl}` : '';
    const since = ` since ${holder.startedAt}`;
    if (holder.app === 'cli') {
      return {
        title: 'Cortex Gateway is already running',
        message:
          `A gateway started from the command line ("cortex-gateway serve", pid ${holder.pid}) ` +
          `already serves your MCP servers${where}${since}. Your apps can keep using it.`,
        detail:
          `To use the desktop app instead, stop that gateway (Ctrl-C in its terminal) and open the app again.\n` +
          `Data folder: ${error.dataDir}`,
      };
    }
    return {
      title: 'Cortex Gateway is already running',
      message: `Another copy of the Cortex Gateway app (pid ${holder.pid}) already serves your MCP servers${where}${since}.`,
      detail: `Quit that copy (tray menu > Quit) and open this one again.\nData folder: ${error.dataDir}`,
    };
  }
  return {
    title: 'Cortex Gateway could not start',
    message: error instanceof Error ? error.message : String(error),
    detail: '',
  };
}
