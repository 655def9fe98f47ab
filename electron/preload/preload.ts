// The only bridge between the console window and the main process. The typed console API
// (src/api/contract.ts) is exposed here when the console lands; for now, just the version.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('cortex', Object.freeze({ bridge: 1 }));
