// The only bridge between the console window and the main process: the desktop-only calls of
// DesktopBridge (src/api/contract.ts) and nothing else. The console API itself stays HTTP.
// Main validates every argument and checks that the call comes from the console page.
// Sandboxed: it imports only the contract (constants and types) and version-arg.ts, never the gateway.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type DesktopBridge } from '../../src/api/contract.js';
import { versionFromArgv } from './version-arg.js';

// Each call forwards exactly one argument: no event objects, no ipcRenderer, no callbacks leak out.
const bridge: DesktopBridge = {
  version: versionFromArgv(process.argv),
  platform: () => ipcRenderer.invoke(IPC_CHANNELS.platform),
  getSettings: () => ipcRenderer.invoke(IPC_CHANNELS.getSettings),
  setSettings: (change) => ipcRenderer.invoke(IPC_CHANNELS.setSettings, change),
  openLogs: () => ipcRenderer.invoke(IPC_CHANNELS.openLogs),
};

contextBridge.exposeInMainWorld('cortex', Object.freeze(bridge));
