import { ProtocolError, SdkError, SdkErrorCode, SseError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../shared/errors.js';
import { HttpStatusError } from './http-client-transport.js';
import { startFailure } from './start-failure.js';

const stdio = { type: 'stdio' as const, command: 'my-server', startupTimeoutMs: 5_000 };
const http = { type: 'http' as const, startupTimeoutMs: 5_000 };
const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('startFailure', () => {
  it('names a command that is not found, as not_started', () => {
    expect(startFailure(errno('ENOENT'), stdio)).toEqual({
      message: 'command not found: my-server (spawn ENOENT; check the command and PATH)',
      kind: 'not_started',
    });
  });

  it('takes our own refusals (a missing secret) as they are worded, as not_started', () => {
    const error = new GatewayError('config_invalid', 'secret "gh" is not stored', { field: 'env.TOKEN' });
    expect(startFailure(error, stdio)).toEqual({ message: 'secret "gh" is not stored', kind: 'not_started' });
  });

  it('says how a child ended during start-up, as exited', () => {
    const closed = new SdkError(SdkErrorCode.ConnectionClosed, 'Connection closed');
    expect(startFailure(closed, { ...stdio, exit: { code: null, signal: 'SIGKILL' } })).toEqual({
      message: 'killed by SIGKILL during start-up',
      kind: 'exited',
    });
    expect(startFailure(closed, http)).toEqual({ message: 'connection closed during start-up', kind: 'connection' });
  });

  it('reports an unanswered initialize as timeout', () => {
    const timeout = new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out');
    expect(startFailure(timeout, stdio)).toEqual({
      message: 'did not finish initialize within 5000 ms',
      kind: 'timeout',
    });
  });

  it('reads 401 and 403 as auth, other statuses as error', () => {
    expect(startFailure(new HttpStatusError(401, 'no', undefined), http).kind).toBe('auth');
    expect(startFailure(new SseError(403, 'Forbidden', {} as never), { ...http, type: 'sse' }).kind).toBe('auth');
    expect(startFailure(new HttpStatusError(500, 'oops', undefined), http).kind).toBe('error');
  });

  it('reads a system error as connection for a remote server, also as the cause of a fetch failure', () => {
    expect(startFailure(errno('ECONNREFUSED'), http).kind).toBe('connection');
    expect(startFailure(new TypeError('fetch failed', { cause: errno('ENOTFOUND') }), http).kind).toBe('connection');
  });

  it('reads a server’s own refusal as auth only when it speaks of credentials', () => {
    expect(startFailure(new ProtocolError(-32010, 'invalid API key sk-…'), stdio).kind).toBe('auth');
    expect(startFailure(new ProtocolError(-32603, 'database is locked'), stdio).kind).toBe('error');
  });
});
