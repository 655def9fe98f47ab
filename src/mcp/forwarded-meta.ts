/**
 * The part of a client request's `_meta` that goes on to the backend with the relayed request
 * (MCP 2025-11-25 basic, "General fields" `_meta`: metadata attached to a request by its sender,
 * such as trace context, which the receiver may rely on).
 *
 * Everything is forwarded except what belongs to the hop: `progressToken` (a token is only
 * meaningful between the two parties of one request, so the gateway asks the backend for progress
 * under a token of its own and maps it back to the client's, session-server.ts `relayed`) and the
 * 2026-07-28 request envelope (basic/index: the client's revision, capabilities and info, its log
 * level), which describes the client to the gateway; the gateway speaks for itself to the backend. Credentials never travel in
 * `_meta` (the client's token is in the HTTP Authorization header, which is not forwarded), so
 * nothing here can leak one to a backend.
 */
const ENVELOPE = new Set([
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientCapabilities',
  'io.modelcontextprotocol/clientInfo',
  'io.modelcontextprotocol/logLevel',
]);

export function forwardedMeta(meta: unknown): Record<string, unknown> | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  let forwarded: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'progressToken' || ENVELOPE.has(key)) continue;
    (forwarded ??= {})[key] = value;
  }
  return forwarded;
}
