import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { describeError, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * Errors as a session sends them: the gateway's own failures as JSON-RPC errors naming the
 * backend, a backend's own errors relayed as they came.
 */

/** JSON-RPC error codes the gateway uses for failures of its own (server-defined range, JSON-RPC 2.0 §5.1). */
export const GATEWAY_ERROR_CODES = {
  backendUnavailable: -32000,
  backendTimeout: -32001,
} as const;

/** An error as it goes on the wire: the SDK sends a thrown error's `code`, `message` and `data`. */
export class WireError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** Converts the gateway's own failures into JSON-RPC errors that name the backend; relays the backend's own. */
export const relayWith =
  (logger: Logger) =>
  async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ProtocolError) throw new WireError(error.code, error.message, error.data);
      if (error instanceof GatewayError) {
        switch (error.code) {
          case 'backend_unavailable':
            throw new WireError(GATEWAY_ERROR_CODES.backendUnavailable, error.message);
          case 'backend_timeout':
            throw new WireError(GATEWAY_ERROR_CODES.backendTimeout, error.message);
          case 'unknown_tool':
          case 'unknown_prompt':
          case 'invalid_argument':
            throw new WireError(ProtocolErrorCode.InvalidParams, error.message);
          case 'unknown_resource':
            // MCP spec: resource not found is -32002.
            throw new WireError(-32002, error.message);
          default:
            break;
        }
      }
      // Unexpected: keep the details inside, send a generic error out.
      logger.error('unexpected error while relaying a request', { error: describeError(error) });
      throw new WireError(ProtocolErrorCode.InternalError, 'Internal gateway error');
    }
  };
