import { SdkHttpError, SSEClientTransport, type Client, type Transport } from '@modelcontextprotocol/client';
import type { RemoteBackendConfig } from '../../config/schema.js';
import { plainSecretValues, resolveSecretRefs } from '../../config/secret-refs.js';
import type { Logger } from '../../shared/logger.js';
import { createSecretMasker } from '../../shared/redact.js';
import type { SecretStore } from '../../store/secrets.js';
import { HttpStatusError, NodeStreamableHttpClientTransport } from '../http-client-transport.js';
import type { NodeFetch } from '../node-fetch.js';

export interface HttpConnectorOptions {
  log: Logger;
  secrets?: SecretStore | undefined;
  /** The backend's node:http fetch for the legacy SSE transport, made on first use and kept. */
  fetch: () => NodeFetch;
  /** Receives the masker of the header values before anything can fail with them in its text. */
  useMask: (mask: (text: string) => string) => void;
  /**
   * Connects an SDK client over the transport: `negotiate` finds the server's era (2026-07-28 or a
   * 2025 revision, see backend.ts), `legacy` runs initialize at once. Rejects as the SDK does.
   */
  initialize: (transport: Transport, era: 'negotiate' | 'legacy') => Promise<Client>;
}

export interface HttpConnection {
  client: Client;
  kind: 'streamable-http' | 'sse';
}

/**
 * How to connect one remote backend: its `${secret:…}` header references resolved (at each
 * connect, never kept), then Streamable HTTP, falling back to the legacy HTTP+SSE transport when
 * the server refuses the first (or at once for `type: "sse"`).
 */
export async function connectHttp(config: RemoteBackendConfig, options: HttpConnectorOptions): Promise<HttpConnection> {
  const url = new URL(config.url);
  const found = plainSecretValues(config.headers);
  const headers = await resolveSecretRefs(config.headers, options.secrets, 'headers', found);
  options.useMask(createSecretMasker(found));
  const sse = async (): Promise<HttpConnection> => {
    // Legacy HTTP+SSE servers are rare; the SDK's transport over our node:http fetch serves them.
    // That transport is the 2024-11-05 revision's, so there is no era to negotiate.
    const fetch = options.fetch().fetch;
    const transport = new SSEClientTransport(url, {
      requestInit: { headers },
      fetch,
      eventSourceInit: { fetch: withHeaders(headers, fetch) },
    });
    return { client: await options.initialize(transport, 'legacy'), kind: 'sse' };
  };
  if (config.type === 'sse') return sse();
  try {
    const transport = new NodeStreamableHttpClientTransport(url, { headers });
    return { client: await options.initialize(transport, 'negotiate'), kind: 'streamable-http' };
  } catch (error) {
    // MCP spec, backwards compatibility: a 400/404/405 to the initialize POST means an older
    // HTTP+SSE server. 401/403 are credentials problems and are reported as they are. (The
    // server/discover probe before it got a 4xx too, which the SDK took for a 2025-era server.)
    if (!(error instanceof SdkHttpError) || ![400, 404, 405].includes(error.status)) throw error;
    options.log.info('streamable HTTP refused, falling back to SSE', { status: error.status });
    return sse();
  }
}

/** The JSON-RPC error code servers built on the SDK answer an unknown or missing session with. */
const SESSION_REFUSED = -32000;

/**
 * Whether an HTTP error says the server no longer knows our session. MCP Streamable HTTP, session
 * management: a server that terminated a session MUST answer requests bearing its id with 404.
 * Servers that keep sessions in a map often answer an unknown id with 400 instead (the SDK's
 * examples and server-everything do, with JSON-RPC error -32000). The 400 counts only when it
 * answers a request that carried a session id, with that error code (a server error per JSON-RPC
 * 2.0 §5.1); a -32600/-32700 for a malformed request still fails. Were a server to use -32000 for
 * something else, the request is sent once more on a new session and then fails.
 */
export function isSessionGone(error: unknown): boolean {
  if (!(error instanceof SdkHttpError)) return false;
  if (error.status === 404) return error instanceof HttpStatusError ? error.sessionId !== undefined : true;
  return (
    error instanceof HttpStatusError &&
    error.status === 400 &&
    error.sessionId !== undefined &&
    error.rpcError?.code === SESSION_REFUSED
  );
}

/** EventSource requests do not take requestInit headers; pass them through a fetch wrapper. */
function withHeaders(headers: Record<string, string>, base: typeof fetch): typeof fetch {
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    return base(input, { ...init, headers: merged });
  };
}
