import { describe, expect, it } from 'vitest';
import { looksLikeJsonRpc } from './json-rpc.js';

describe('looksLikeJsonRpc', () => {
  it('accepts requests, notifications and responses', () => {
    expect(looksLikeJsonRpc({ jsonrpc: '2.0', id: 1, method: 'ping' })).toBe(true);
    expect(looksLikeJsonRpc({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(true);
    expect(looksLikeJsonRpc({ jsonrpc: '2.0', id: 'a', result: {} })).toBe(true);
    expect(looksLikeJsonRpc({ jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } })).toBe(true);
  });
  it('refuses anything else', () => {
    for (const value of [
      null,
      [],
      'x',
      { id: 1, method: 'ping' },
      { jsonrpc: '1.0', method: 'x' },
      { jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', method: 'x', params: 3 },
    ]) {
      expect(looksLikeJsonRpc(value), JSON.stringify(value)).toBe(false);
    }
  });
});
