import { describe, expect, it } from 'vitest';
import { isRequestId, looksLikeJsonRpc, singleRequestId } from './json-rpc.js';

describe('isRequestId', () => {
  it('accepts strings and safe integers', () => {
    for (const id of ['', 'a', 0, -1, 7, Number.MAX_SAFE_INTEGER]) expect(isRequestId(id), String(id)).toBe(true);
  });
  it('refuses null, fractions, unsafe integers and anything else', () => {
    for (const id of [null, undefined, 1.5, 2 ** 53 + 2, NaN, Infinity, true, {}, []]) {
      expect(isRequestId(id), String(id)).toBe(false);
    }
  });
});

describe('singleRequestId', () => {
  it('is the id of a lone request', () => {
    expect(singleRequestId({ jsonrpc: '2.0', id: 4, method: 'tools/list' })).toBe(4);
    expect(singleRequestId({ jsonrpc: '2.0', id: 'x', method: 'ping' })).toBe('x');
  });
  it('is null for batches, notifications, invalid ids and non-messages', () => {
    for (const body of [
      [{ jsonrpc: '2.0', id: 4, method: 'ping' }],
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 1.5, method: 'ping' },
      { jsonrpc: '2.0', id: 4, result: {} },
      undefined,
      'x',
    ]) {
      expect(singleRequestId(body), JSON.stringify(body)).toBeNull();
    }
  });
});

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
