import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { describeError, GatewayError } from '../shared/errors.js';
import { AskError } from './call-context.js';
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
 *
 * The backend client is SDK 2.x (ProtocolError for the server's answer, SdkError for its own
 * failures); what goes up is the error the client-facing layers relay (ProtocolError for a JSON-RPC
 * error, GatewayError for ours), whichever era either side speaks.
 */
export function translateRequestError(error: unknown, context: RequestContext): unknown {
  const { backend, method } = context;
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) {
      return new GatewayError(
        'backend_timeout',
        `Backend "${backend}" did not answer ${method} within ${context.timeoutMs} ms`,
        { cause: error },
      );
    }
    if (error.code === SdkErrorCode.ConnectionClosed) {
      const lastError = context.lastError ?? 'connection closed';
      return new GatewayError(
        'backend_unavailable',
        `Backend "${backend}" is ${context.state} (${lastError}); ${method} did not complete`,
        { cause: error },
      );
    }
    if (error.code === SdkErrorCode.MethodNotSupportedByProtocolVersion) {
      // A 2025 method a 2026-07-28 backend no longer has (resources/subscribe, logging/setLevel…).
      return new ProtocolError(
        ProtocolErrorCode.MethodNotFound,
        `Backend "${backend}" does not support ${method} in its protocol revision`,
      );
    }
  }
  if (error instanceof AskError) return unansweredError(error, context);
  if (error instanceof ProtocolError) {
    // The backend's own JSON-RPC error: relayed as is, but for its own secrets (a server may
    // quote the key it was refused with).
    return new ProtocolError(error.code, context.mask(error.message), error.data);
  }
  return new GatewayError(
    'backend_unavailable',
    context.mask(`Backend "${backend}": ${method} failed: ${describeError(error)}`),
    {
      cause: error,
    },
  );
}

/**
 * MCP 2026-07-28 MissingRequiredClientCapability: the request needs a capability the client did
 * not declare. The SDK's servers answer it when a tool's input_required round asks a client
 * without the capability; the gateway does the same for a backend's round.
 */
export const MISSING_CLIENT_CAPABILITY = -32021;

/**
 * A 2026-07-28 backend's call that ended because the calling client could not answer its
 * input_required round (relay.ts): the backend is fine, so the error is not about it but about the
 * question. A client without the capability gets MissingRequiredClientCapability with the
 * capabilities it would need; a client that answered with an error gets that error back (its own
 * code: a user rejecting a sampling request, say); a question the gateway could put to no client
 * is the gateway's to explain.
 */
function unansweredError(error: AskError, context: RequestContext): ProtocolError {
  const message = context.mask(
    `Backend "${context.backend}" asked for input during ${context.method} (${error.method}), and it could not be given: ` +
      (error.fromClient ? `the client answered with an error: ${error.message}` : error.message),
  );
  if (error.required) {
    return new ProtocolError(MISSING_CLIENT_CAPABILITY, message, { requiredCapabilities: error.required });
  }
  if (error.fromClient) return new ProtocolError(error.code, message, error.data);
  return new ProtocolError(ProtocolErrorCode.InternalError, message);
}
