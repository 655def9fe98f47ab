import type { EventEmitter } from 'node:events';
import type { BackendPool } from '../backends/pool.js';
import type { GatewaySettings } from '../config/schema.js';
import { Federation } from '../federation/federation.js';
import { createScopePolicy, type ScopeNeeded } from '../federation/scope-policy.js';
import type { GatewayEvents } from '../gateway.js';
import { ActivityLog } from '../mcp/activity.js';
import { McpEndpoint } from '../mcp/endpoint.js';
import { grantedScopes } from '../oauth/owner-grants.js';
import type { OAuthStore } from '../oauth/store.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

export interface EndpointWiringOptions {
  settings: Readonly<GatewaySettings>;
  pool: BackendPool;
  logger: Logger;
  clock: Clock;
  clientInfo: { name: string; version: string };
  /** OAuth state, once the listener is built. */
  oauthStore: () => OAuthStore | undefined;
  maskError: (name: string, text: string) => string;
  events: EventEmitter<GatewayEvents>;
}

/** The MCP side of a gateway: the federation over the pool, the activity log, the endpoint and its scope policy. */
export function wireEndpoint(options: EndpointWiringOptions) {
  const { settings, pool, logger, clock, events } = options;
  const federation = new Federation(pool, logger);
  const activity = new ActivityLog({ recordArguments: settings.activityArguments, now: () => clock.now() });
  // Requests outside the caller's grant are answered 403 before a session sees them; refused tool
  // calls are recorded here for the Activity page, since no session will.
  const scopeNeeded: ScopeNeeded = createScopePolicy({
    catalog: () => federation.catalog,
    refused: ({ caller, tool, backend, needed }) =>
      activity.start({
        clientId: caller.clientId,
        ...(caller.clientName !== undefined ? { clientName: caller.clientName } : {}),
        tool,
        backend,
      })('refused', `needs ${needed}`),
  });
  const endpoint = new McpEndpoint({
    activity,
    federation,
    statuses: () => pool.statuses(),
    serverInfo: options.clientInfo,
    logger,
    listPageSize: settings.listPageSize,
    sessionIdleMs: settings.sessionIdleMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    maxSessions: settings.maxSessions,
    maxSessionsPerClient: settings.maxSessionsPerClient,
    clock,
    // What a session's caller has now: the owner's current decision (grants.ts), so a change in the
    // console applies to open sessions at once.
    liveScopes: (identity) => {
      const store = options.oauthStore();
      return store ? grantedScopes(store.state, identity) : identity.scopes;
    },
    maskError: options.maskError,
  });
  function setPaused(paused: boolean): void {
    if (endpoint.paused === paused) return;
    endpoint.paused = paused;
    logger.info(paused ? 'gateway paused: clients are refused until resumed' : 'gateway resumed');
    events.emit('paused', paused);
  }
  return { federation, activity, scopeNeeded, endpoint, setPaused };
}
