import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { describeError, GatewayError } from '../shared/errors.js';
import type { BackendState } from './types.js';

/** What a failed request's error is told about the backend it was sent to. */
export interface RequestContext {
  backend: string;
  method: string;
  state: BackendState;
  lastError: string | undefined;
  timeoutMs: number;
  /** Masks the backend's secrets out of text a client will read. */
  mask: (text: string) => string;
}

/** A request that was not sent: the backend is not ready for it. */
export function unavailableError(context: Omit<RequestContext, 'timeoutMs' | 'mask'>): GatewayError {
  const reason = context.lastError ? `: ${context.lastError}` : '';
  return new GatewayError(
    'backend_unavailable',
    `Backend "${context.backend}" is ${context.state}${reason}; ${context.method} was not sent`,
  );
}

/**
 * A request's failure as the client is told it: the SDK's own timeout and lost connection become
 * errors naming the backend; the backend's JSON-RPC error is relayed with its secrets masked;
 * anything else (a network error) becomes `backend_unavailable`.
 */
export function translateRequestError(error: unknown, context: RequestContext): unknown {
  const { backend, method } = context;
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) {
      return new GatewayError(
        'backend_timeout',
        `Backend "${backend}" did not answer ${method} within ${context.timeoutMs} ms`,
        { cause: error },
      );
    }
    if (error.code === ErrorCode.ConnectionClosed) {
      const lastError = context.lastError ?? 'connection closed';
      return new GatewayError(
        'backend_unavailable',
        `Backend "${backend}" is ${context.state} (${lastError}); ${method} did not complete`,
        { cause: error },
      );
    }
    // The backend's own JSON-RPC error: relayed as is, but for its own secrets (a server may
    // quote the key it was refused with). McpError prefixes "MCP error <code>: " to the message.
    const masked = context.mask(error.message);
    if (masked === error.message) return error;
    const prefix = `MCP error ${error.code}: `;
    return new McpError(error.code, masked.startsWith(prefix) ? masked.slice(prefix.length) : masked, error.data);
  }
  return new GatewayError(
    'backend_unavailable',
    context.mask(`Backend "${backend}": ${method} failed: ${describeError(error)}`),
    {
      cause: error,
    },
  );
}
