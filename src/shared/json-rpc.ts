import type { ServerResponse } from 'node:http';

/** A JSON-RPC error with `id: null`, for failures before a request could be read or routed. */
export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  const payload = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * A structural JSON-RPC 2.0 check, cheap enough for every message on the hot path; the SDK's
 * protocol layer validates each method's params with its own schema right after.
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
