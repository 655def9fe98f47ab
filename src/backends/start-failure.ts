import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError, SseError } from '@modelcontextprotocol/client';
import { describeError, GatewayError } from '../shared/errors.js';
import { describeExit, type ExitStatus } from './connectors/stdio.js';
import type { Failure } from './supervisor.js';
import type { BackendErrorKind } from './types.js';

export interface StartContext {
  type: 'stdio' | 'http' | 'sse';
  /** The configured command of a stdio backend, named when it is not found. */
  command?: string | undefined;
  startupTimeoutMs: number;
  /** How the stdio child ended, if it did. */
  exit?: ExitStatus | undefined;
}

/**
 * Why a backend failed to start, worded for the owner, and its kind, decided from the error's
 * type and code (see BackendErrorKind), never from its text but in one narrow case
 * (`serverRefusalKind`).
 */
export function startFailure(error: unknown, context: StartContext): Failure {
  return { message: describeStartFailure(error, context), kind: startFailureKind(error, context) };
}

function describeStartFailure(error: unknown, context: StartContext): string {
  // Our own refusals (a missing secret, a cwd that is not a folder) are already worded for the owner.
  if (error instanceof GatewayError) return error.message;
  const stdio = context.type === 'stdio';
  if (stdio && errnoCode(error) === 'ENOENT') {
    return `command not found: ${context.command} (spawn ENOENT; check the command and PATH)`;
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed) {
    // The reason is usually in its stderr, which status() reports beside the error as lastStderr.
    return stdio ? `${describeExit(context.exit)} during start-up` : 'connection closed during start-up';
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return `did not finish initialize within ${context.startupTimeoutMs} ms`;
  }
  return describeError(error);
}

function startFailureKind(error: unknown, context: StartContext): BackendErrorKind {
  // Our own refusals before anything ran: a missing secret, a cwd that is not a folder.
  if (error instanceof GatewayError) return 'not_started';
  const stdio = context.type === 'stdio';
  if (error instanceof ProtocolError) return serverRefusalKind(error);
  if (error instanceof SdkHttpError || error instanceof SseError) {
    // RFC 9110 §15.5.2, §15.5.4: the server wants (other) credentials.
    const status = error instanceof SdkHttpError ? error.status : error.code;
    return status === 401 || status === 403 ? 'auth' : 'error';
  }
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) return 'timeout';
    if (error.code === SdkErrorCode.ConnectionClosed) return stdio ? 'exited' : 'connection';
    // A failed server/discover probe over a network failure carries the socket's error as cause.
    if (errnoCode((error as { cause?: unknown }).cause) !== undefined) return 'connection';
    return 'error';
  }
  // A system error: from spawn() for a child (ENOENT, EACCES), from the socket for a remote
  // server (ECONNREFUSED, ENOTFOUND…), possibly as the cause of fetch's TypeError.
  const code = errnoCode(error) ?? errnoCode((error as { cause?: unknown } | undefined)?.cause);
  if (code !== undefined) return stdio ? 'not_started' : 'connection';
  return 'error';
}

/** The `code` of a Node.js system error (`ENOENT`, `ECONNREFUSED`…), if it is one. */
function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('E') ? code : undefined;
}

/**
 * The kind of a server's own JSON-RPC error to initialize. JSON-RPC and MCP define no code for
 * "bad credentials" (servers pick their own: -32010, -32001…), so this one kind can only come from
 * the server's words: a stdio server given a wrong API key says so in its message. Only such
 * server-authored text is read here, never our own errors or the transport's.
 */
function serverRefusalKind(error: ProtocolError): BackendErrorKind {
  return CREDENTIAL_WORDS.test(error.message) ? 'auth' : 'error';
}

const CREDENTIAL_WORDS = /unauthori[sz]ed|forbidden|credential|api.?key|invalid.{0,20}token/i;
