import { describe, expect, it } from 'vitest';
import { forwardedMeta } from './forwarded-meta.js';

describe('forwardedMeta', () => {
  it('forwards every key but the progress token', () => {
    expect(
      forwardedMeta({
        progressToken: 7,
        traceparent: '00-abc-def-01',
        'io.modelcontextprotocol/related-task': { taskId: 't' },
      }),
    ).toEqual({ traceparent: '00-abc-def-01', 'io.modelcontextprotocol/related-task': { taskId: 't' } });
  });

  it('has nothing to forward when only a progress token, or nothing, was sent', () => {
    expect(forwardedMeta({ progressToken: 'p' })).toBeUndefined();
    expect(forwardedMeta({})).toBeUndefined();
    expect(forwardedMeta(undefined)).toBeUndefined();
    expect(forwardedMeta([1])).toBeUndefined();
  });

  it('keeps the 2026-07-28 envelope, which describes the client to the gateway, from the backend', () => {
    expect(
      forwardedMeta({
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
        'io.modelcontextprotocol/clientInfo': { name: 'app', version: '1' },
        'io.modelcontextprotocol/logLevel': 'debug',
        traceparent: '00-abc-def-01',
      }),
    ).toEqual({ traceparent: '00-abc-def-01' });
  });
});
