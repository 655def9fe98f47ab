import type { Prompt, Resource, ResourceTemplateType as ResourceTemplate, Tool } from '@modelcontextprotocol/client';

// Owned by status.ts (no imports, so the console's contract can re-export them to the renderer).
export type { BackendErrorKind, BackendKind, BackendState, BackendStatus, BackendTestResult } from './status.js';

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
