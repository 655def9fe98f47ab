import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

import type { BackendStatus as ContractBackendStatus } from '../api/contract.js';

// The status shapes are part of the console contract; the core uses them from there.
export type { BackendKind, BackendState } from '../api/contract.js';

/**
 * What kind of failure a backend's `lastError` is, decided where it happened (the supervisor knows
 * whether a ping went unanswered, the child exited, spawning failed…), so no one parses the text.
 * - `unresponsive`: connected, but pings went unanswered.
 * - `exited`: the stdio child ended (an exit code or a signal).
 * - `not_started`: never got going: spawn failed (command not found…), a secret or the cwd is missing.
 * - `timeout`: initialize was not answered within `startupTimeoutMs`.
 * - `auth`: the server refused our credentials (HTTP 401/403, or its own refusal saying so).
 * - `connection`: the network failed (refused, reset, unknown host) or the connection closed.
 * - `error`: anything else; the text says what.
 */
export type BackendErrorKind = 'unresponsive' | 'exited' | 'not_started' | 'timeout' | 'auth' | 'connection' | 'error';

export interface BackendStatus extends ContractBackendStatus {
  /** The kind of `lastError`, present with it. */
  lastErrorKind?: BackendErrorKind;
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
