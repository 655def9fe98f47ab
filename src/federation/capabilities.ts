import type { ServerCapabilities } from '@modelcontextprotocol/server';
import type { TaskEra } from '../backends/protocol-era.js';

/**
 * The capabilities the gateway declares to a client: tools always (its builtins are tools), and
 * each optional feature only when at least one backend declared it, so a client never relies on
 * something no backend can do (MCP 2025-11-25 basic/lifecycle, "Capability Negotiation": both
 * parties SHOULD only use capabilities that were successfully negotiated).
 *
 * Capabilities are fixed at initialize and cannot be added during a session, so they are computed
 * then, from the backends known at that moment: a session opened before a backend with prompts
 * first connected does not offer prompts until the client opens a new session. list_changed still
 * reaches it for the lists it was offered. Grants are not applied here: the owner may grant a
 * backend during the session, and its lists then appear through list_changed.
 *
 * A backend still starting that has never connected has unknown capabilities: it counts as
 * STARTING_BACKEND, which declares everything. Clients often connect while the gateway starts its
 * backends, and such a session would otherwise lose a backend's prompts and resources for good,
 * and the retryable "still connecting" answer (Federation.startingBackend) with them.
 */
export const STARTING_BACKEND: ServerCapabilities = Object.freeze({
  prompts: {},
  resources: { subscribe: true },
  completions: {},
  logging: {},
});

export function federatedCapabilities(backends: Iterable<ServerCapabilities | undefined>): ServerCapabilities {
  let prompts = false;
  let resources = false;
  let subscribe = false;
  let completions = false;
  let logging = false;
  for (const caps of backends) {
    if (!caps) continue;
    prompts ||= caps.prompts !== undefined;
    resources ||= caps.resources !== undefined;
    subscribe ||= caps.resources?.subscribe === true;
    completions ||= caps.completions !== undefined;
    logging ||= caps.logging !== undefined;
  }
  // listChanged: the federated lists change whenever a backend comes, goes or changes its own,
  // whether or not that backend announces its own changes (the gateway re-lists on reconnect).
  return {
    tools: { listChanged: true },
    ...(prompts && { prompts: { listChanged: true } }),
    ...(resources && { resources: subscribe ? { listChanged: true, subscribe: true } : { listChanged: true } }),
    ...(completions && { completions: {} }),
    ...(logging && { logging: {} }),
  };
}

/**
 * The 2025-11-25 `tasks` capability the gateway declares when some backend runs tools/call as
 * 2025 tasks: task-augmented tools/call, and tasks/list (answered by the gateway from the
 * caller's own tasks) and tasks/cancel (relayed to the backend that owns the task).
 */
export const LEGACY_TASKS = Object.freeze({ list: {}, cancel: {}, requests: Object.freeze({ tools: { call: {} } }) });

/**
 * Which task kinds the gateway can relay, from the backends' (protocol-era.ts `taskEraOf`): each
 * only when a backend of that era runs tasks, since a task passes through unchanged and an era's
 * client cannot poll the other era's tasks. A backend still starting counts for neither: a client
 * that was not offered tasks simply gets every result inline.
 */
export function taskSupport(eras: Iterable<TaskEra | undefined>): { legacy: boolean; modern: boolean } {
  const support = { legacy: false, modern: false };
  for (const era of eras) if (era) support[era] = true;
  return support;
}
