// The console window: one at a time, locked down, loading the console the gateway serves at /app.
import { BrowserWindow, shell } from 'electron';

export interface ConsoleWindowOptions {
  preload: string;
}

export function createConsoleWindow(options: ConsoleWindowOptions): { show(url: string | undefined): void } {
  let window: BrowserWindow | undefined;
  return {
    show(url) {
      if (window && !window.isDestroyed()) return window.focus();
      window = new BrowserWindow({
        width: 1100,
        height: 760,
        title: 'Cortex Gateway',
        webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, preload: options.preload },
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
