// The only bridge between the console window and the main process. The typed console API
// (src/api/contract.ts) is exposed here when the console lands; for now, just the version.
import { contextBridge } from 'electron';
import { VERSION } from '../../src/version.js';

/** What the console sees as `window.cortex`; renderer/src/api.ts is its only reader. */
export interface CortexBridge {
  readonly version: string;
}

contextBridge.exposeInMainWorld('cortex', Object.freeze({ version: VERSION } satisfies CortexBridge));
