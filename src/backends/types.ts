import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

export type BackendState = 'connecting' | 'ready' | 'degraded' | 'down' | 'disabled';
export type BackendKind = 'stdio' | 'http' | 'sse';

/** What the console, the tray, `whoami` and `cortex-gateway backends` show about one backend. */
export interface BackendStatus {
  name: string;
  id: string;
  kind: BackendKind;
  /** The transport actually in use; an `http` backend may have fallen back to SSE. */
  transport?: 'stdio' | 'streamable-http' | 'sse';
  state: BackendState;
  /** Epoch ms of the last state change. */
  since: number;
  lastError?: string;
  /** Round-trip of the last successful ping (or connect), in milliseconds. */
  latencyMs?: number;
  restartCount: number;
  toolCount: number;
  promptCount: number;
  resourceCount: number;
  pid?: number;
  server?: { name: string; version: string };
}

export interface BackendCatalog {
  tools: readonly Tool[];
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  resourceTemplates: readonly ResourceTemplate[];
}

export const EMPTY_CATALOG: BackendCatalog = Object.freeze({
  tools: [],
  prompts: [],
  resources: [],
  resourceTemplates: [],
});
