import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for `/mcp` (Fetch standard, "CORS protocol"), for browser clients on an origin the owner
 * allowed: the actual response names that origin and exposes what an MCP client must read (the
 * session id, the protocol version, the 401 challenge); a preflight is answered here. Requests
 * from any other origin get no CORS headers, so a browser keeps their answers from the page.
 * Returns true when it answered the request (a preflight) itself.
 */
export function applyMcpCors(req: IncomingMessage, res: ServerResponse, allowed: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  if (!origin || !allowed(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', 'mcp-session-id, mcp-protocol-version, www-authenticate');
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader(
    'Access-Control-Allow-Headers',
    'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id',
  );
  res.setHeader('Access-Control-Max-Age', '600');
  res.writeHead(204).end();
  return true;
}
