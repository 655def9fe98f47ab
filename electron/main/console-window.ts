// The console window: one at a time, locked down, loading the console the gateway serves at /app.
import { BrowserWindow, shell } from 'electron';
import { versionArgument } from '../preload/version-arg.js';

export interface ConsoleWindowOptions {
  preload: string;
  /** The app's version, which the preload exposes to the console (DesktopBridge.version). */
  version: string;
}

export function createConsoleWindow(options: ConsoleWindowOptions): {
  /** Opens the window at `url`, or focuses the open one (going to `url` when `navigate`, e.g. a page). */
  show(url: string | undefined, navigate?: boolean): void;
} {
  let window: BrowserWindow | undefined;
  return {
    show(url, navigate = false) {
      if (window && !window.isDestroyed()) {
        if (url && navigate) void window.loadURL(url);
        return window.focus();
      }
      window = new BrowserWindow({
        width: 1100,
        height: 760,
        title: 'Cortex Gateway',
        webPreferences: {
          contextIsolation: true,
          sandbox: true,
          nodeIntegration: false,
          preload: options.preload,
          additionalArguments: [versionArgument(options.version)],
        },
      });
      // Links open in the user's browser, never inside the privileged window.
      window.webContents.setWindowOpenHandler(({ url: target }) => {
        if (/^https?:/.test(target)) void shell.openExternal(target);
        return { action: 'deny' };
      });
      if (url) void window.loadURL(url);
    },
  };
}
