import type { JSONRPCRequest, LoggingLevel, RequestId } from '@modelcontextprotocol/server';
import type { FederatedCatalog } from '../federation/catalog.js';
import { needOf } from '../federation/method-grants.js';

/**
 * The request of a session that a backend's log message most likely relates to, so it can travel
 * on that request's SSE stream (MCP 2025-11-25 basic/transports, "Sending Messages to the Server"
 * 5: messages on a POST's stream SHOULD relate to its request).
 *
 * A backend's notifications/message names no request (nor, over stdio, could it say which of our
 * calls it serves), so the attribution is by backend: the one call of this session in flight to
 * that backend with an SSE response. With none, or with several (which of them logged is unknown),
 * there is no related request and the message goes on the standalone stream as before. Several
 * sessions calling the same backend at once each get the message on their own call's stream: a
 * log line of a shared backend cannot be attributed to one of them, and each was granted it.
 */
export function relatedRequest(
  streaming: readonly JSONRPCRequest[],
  backendId: string,
  catalog: FederatedCatalog,
): RequestId | undefined {
  let related: RequestId | undefined;
  for (const request of streaming) {
    const need = needOf(request.method, request.params, catalog);
    if (need?.kind !== 'backend' || need.backendId !== backendId) continue;
    if (related !== undefined) return undefined;
    related = request.id;
  }
  return related;
}

/** Severity order of log levels (RFC 5424, as MCP 2025-11-25 server/utilities/logging lists them). */
const LOG_LEVELS: readonly string[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export function isLoggingLevel(value: unknown): value is LoggingLevel {
  return typeof value === 'string' && LOG_LEVELS.includes(value);
}

/** Whether a message at `level` is at least as severe as `threshold` (the level the client asked for). */
export function logLevelAtLeast(level: LoggingLevel, threshold: LoggingLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}
