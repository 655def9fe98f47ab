import type { ServerResponse } from 'node:http';

/** JSON-RPC 2.0 §4 allows a string, a number or null; MCP narrows it to a string or an integer, never null. */
export type JsonRpcId = string | number;

export function isRequestId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || Number.isSafeInteger(value);
}

/**
 * The id of the single request a POST body carries, for errors answered before the body reaches a
 * session; null when there is none, several, or one that is not a valid id (JSON-RPC 2.0 §5).
 */
export function singleRequestId(body: unknown): JsonRpcId | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const message = body as Record<string, unknown>;
  return typeof message.method === 'string' && isRequestId(message.id) ? message.id : null;
}

/**
 * A structural JSON-RPC 2.0 check for messages from backends, cheap enough for every message on the
 * hot path. Messages from clients get the full check in src/mcp/message-validation.ts.
 */
export function looksLikeJsonRpc(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return false;
  const hasId = typeof message.id === 'string' || typeof message.id === 'number';
  if (typeof message.method === 'string') {
    return message.params === undefined || (typeof message.params === 'object' && message.params !== null);
  }
  return hasId && ('result' in message || (typeof message.error === 'object' && message.error !== null));
}

export function isRequestMessage(message: object): message is { id: string | number; method: string } {
  return 'method' in message && 'id' in message;
}

/**
 * An HTTP error whose body is a JSON-RPC error: with the id of the request it answers when that is
 * known, otherwise `id: null` (JSON-RPC 2.0 §5: the id could not be read, or there was none).
 */
export function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: JsonRpcId | null = null,
): void {
  if (res.headersSent) return;
  const payload = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * A result may carry its own JSON text under this symbol (invisible to JSON.stringify). Our HTTP
 * transport then sends that text instead of serializing the object again: a 5,000-tool list is
 * 1.6 MB, and re-serializing it per request was most of tools/list's latency.
 */
export const PRESERIALIZED = Symbol.for('cortex.preserializedResult');

export function preserializedResult(message: object): string | undefined {
  if (!('result' in message)) return undefined;
  const result = (message as { result: unknown }).result;
  if (typeof result !== 'object' || result === null) return undefined;
  const raw = (result as { [PRESERIALIZED]?: unknown })[PRESERIALIZED];
  return typeof raw === 'string' ? raw : undefined;
}
