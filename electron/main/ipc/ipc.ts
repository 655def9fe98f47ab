// Registers the bridge's handlers with ipcMain; every call is checked to come from the console page.
import { ipcMain } from 'electron';
import type { IpcHandler } from './ipc-handlers.js';
import { isTrustedSender } from './ipc-handlers.js';

export function registerIpc(handlers: Record<string, IpcHandler>, gatewayOrigin: () => string | undefined): void {
  for (const [channel, handler] of Object.entries(handlers)) {
    ipcMain.handle(channel, async (event, arg: unknown) => {
      if (!isTrustedSender(event.senderFrame?.url, gatewayOrigin())) {
        return { ok: false, error: { code: 'forbidden', message: 'Only the Cortex console may call this' } };
      }
      return handler(arg);
    });
  }
}
