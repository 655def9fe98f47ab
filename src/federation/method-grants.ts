import type { Access, FederatedCatalog } from './catalog.js';
import { backendScope, type Grant } from './scopes.js';

/**
 * The one table of what each MCP message the gateway serves needs of the caller's grant, deny by
 * default: a request whose method is not here is refused (-32601, see `needOf`) and a notification
 * is dropped, whatever the SDK or a handler would have done with it. Adding a handler therefore
 * means adding its row, which says which backend's data it reaches.
 *
 * The HTTP layer uses it to answer 403 `insufficient_scope` naming the scope (RFC 6750 §3.1), the
 * session (src/mcp) to refuse at its gate and in its handlers, and the endpoint to decide which
 * sessions a backend's notification may reach.
 */

/** What a thing named in a request is, for the answer a refused request gets. */
export type TargetKind = 'tool' | 'prompt' | 'resource' | 'template';

export type Need =
  /** Reads no backend's data: the gateway's own methods, builtins, and names the catalog does not have (answered "unknown"). */
  | { kind: 'none' }
  /** A list: answered, with each item shown only under its backend's grant. */
  | { kind: 'filtered' }
  /** One backend's read or write grant. */
  | { kind: 'backend'; backendId: string; backend: string; access: Access; target: TargetKind; name: string };

type Params = Record<string, unknown> | undefined;
type Rule = (params: Params, catalog: FederatedCatalog) => Need;

const NONE: Need = Object.freeze({ kind: 'none' });
const FILTERED: Need = Object.freeze({ kind: 'filtered' });
const none: Rule = () => NONE;
const filtered: Rule = () => FILTERED;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function tool(catalog: FederatedCatalog, name: string | undefined): Need {
  const found = name === undefined ? undefined : catalog.tool(name);
  if (!found) return NONE;
  return {
    kind: 'backend',
    backendId: found.backendId,
    backend: found.backend,
    access: found.access,
    target: 'tool',
    name: found.name,
  };
}

function prompt(catalog: FederatedCatalog, name: string | undefined): Need {
  const found = name === undefined ? undefined : catalog.prompt(name);
  if (!found) return NONE;
  return {
    kind: 'backend',
    backendId: found.backendId,
    backend: found.backend,
    access: 'read',
    target: 'prompt',
    name: found.name,
  };
}

function resource(catalog: FederatedCatalog, uri: string | undefined): Need {
  const owner = uri === undefined ? undefined : catalog.resourceOwner(uri);
  if (!owner) return NONE;
  return { kind: 'backend', backendId: owner.id, backend: owner.name, access: 'read', target: 'resource', name: uri! };
}

function template(catalog: FederatedCatalog, uriTemplate: string | undefined): Need {
  const owner = uriTemplate === undefined ? undefined : catalog.templateOwner(uriTemplate);
  if (!owner) return NONE;
  return {
    kind: 'backend',
    backendId: owner.id,
    backend: owner.name,
    access: 'read',
    target: 'template',
    name: uriTemplate!,
  };
}

/** Client requests the gateway serves. MCP 2025-11-25, server features and utilities. */
const REQUESTS: Readonly<Record<string, Rule>> = Object.freeze({
  // Lifecycle and utilities: the handshake and keep-alive carry no backend's data.
  initialize: none,
  ping: none,
  // Sets this session's level only; which log messages it gets is decided per message (NOTIFICATIONS).
  'logging/setLevel': none,
  'tools/list': filtered,
  'prompts/list': filtered,
  'resources/list': filtered,
  'resources/templates/list': filtered,
  // A tool needs its own class's scope: read for read-only tools, write for the rest.
  'tools/call': (params, catalog) => tool(catalog, text(params?.name)),
  'prompts/get': (params, catalog) => prompt(catalog, text(params?.name)),
  'resources/read': (params, catalog) => resource(catalog, text(params?.uri)),
  'resources/subscribe': (params, catalog) => resource(catalog, text(params?.uri)),
  // Only ever ends this session's own subscription and reads nothing. Refusing it once the owner
  // turned the grant off would keep the backend subscribed for a session that can no longer use it.
  'resources/unsubscribe': none,
  // A completion reads the backend that owns what it completes: a prompt's argument, or a resource
  // template's variable (the template's owner, which is where federation.complete routes it).
  'completion/complete': (params, catalog) => {
    const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    if (ref?.type === 'ref/prompt') return prompt(catalog, text(ref.name));
    if (ref?.type === 'ref/resource') return template(catalog, text(ref.uri));
    return NONE;
  },
  // Tasks (2025-11-25 core; 2026-07-28 the Tasks extension, whose tasks/update is new): a task is
  // known only to the caller whose call created it, and only while its grant still covers the
  // tool that did (mcp/task-relay.ts, checked in the handlers); anything else is an unknown task.
  // tasks/list lists the caller's own tasks only.
  'tasks/get': none,
  'tasks/result': none,
  'tasks/list': none,
  'tasks/cancel': none,
  'tasks/update': none,
});

/**
 * Notifications a client may send. Any other is dropped unanswered (JSON-RPC 2.0 §4.1: a
 * notification never gets a response), as the gateway has nothing to do with it.
 */
const CLIENT_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
]);

/**
 * Notifications the gateway sends to clients, and who may receive each:
 * - `backend-read`: only sessions granted read of the backend it comes from (for a resource
 *   update, also of the resource's owner, and only when subscribed);
 * - `view`: only sessions whose filtered view of that list changed;
 * - `request`: only the session whose request it is about (progress, cancellation, and the
 *   completion of a URL-mode elicitation, to the session whose call was asked it: relay.ts);
 * - `task-owner`: only the caller whose call created the task (its subject and client), and only
 *   while its grant covers the tool that did (mcp/task-relay.ts): a task's status, 2025-11-25 on
 *   its sessions, 2026-07-28 on its `subscriptions/listen` streams that name the task.
 * Any other notification is not sent.
 */
export const NOTIFICATIONS = Object.freeze({
  'notifications/message': 'backend-read',
  'notifications/resources/updated': 'backend-read',
  'notifications/tools/list_changed': 'view',
  'notifications/prompts/list_changed': 'view',
  'notifications/resources/list_changed': 'view',
  'notifications/progress': 'request',
  'notifications/cancelled': 'request',
  'notifications/elicitation/complete': 'request',
  'notifications/tasks/status': 'task-owner',
  'notifications/tasks': 'task-owner',
} as const);

/** What a request needs, or undefined when the gateway does not serve its method (refuse it). */
export function needOf(method: string, params: Params, catalog: FederatedCatalog): Need | undefined {
  if (!Object.hasOwn(REQUESTS, method)) return undefined;
  return REQUESTS[method]!(params, catalog);
}

/** Whether a client's notification is one the gateway acts on. */
export function acceptsNotification(method: string): boolean {
  return CLIENT_NOTIFICATIONS.has(method);
}

/** Whether the gateway may send a notification with this method at all (who gets it: `NOTIFICATIONS`). */
export function sendsNotification(method: string): boolean {
  return Object.hasOwn(NOTIFICATIONS, method);
}

/** Whether the grant covers what a request needs. */
export function allows(grant: Grant, need: Need): boolean {
  return need.kind !== 'backend' || grant.allowsTool({ backendId: need.backendId, access: need.access });
}

/** For a request outside the grant, the scope that would allow it; undefined when the grant covers it. */
export function scopeNeeded(grant: Grant, need: Need | undefined): string | undefined {
  if (!need || need.kind !== 'backend' || allows(grant, need)) return undefined;
  return backendScope(need.backendId, need.access);
}
