import { describe, expect, it } from 'vitest';
import { checkMessage, judgeMessages } from './message-validation.js';

const call = (params: unknown, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params,
  ...extra,
});

describe('checkMessage', () => {
  it('accepts well-formed requests, notifications and responses', () => {
    expect(checkMessage(call({ name: 'a__b', arguments: { x: 1 } })).kind).toBe('request');
    expect(checkMessage({ jsonrpc: '2.0', id: 'x', method: 'tools/list' }).kind).toBe('request');
    expect(checkMessage({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { cursor: 'c' } }).kind).toBe('request');
    expect(checkMessage({ jsonrpc: '2.0', method: 'notifications/initialized' }).kind).toBe('notification');
    expect(checkMessage({ jsonrpc: '2.0', id: 3, result: {} }).kind).toBe('response');
    expect(checkMessage({ jsonrpc: '2.0', id: 3, error: { code: 1, message: 'no' } }).kind).toBe('response');
  });

  it('passes unknown methods on (the SDK answers -32601)', () => {
    expect(checkMessage({ jsonrpc: '2.0', id: 1, method: 'vendor/thing', params: { any: 1 } }).kind).toBe('request');
  });

  it('accepts a tools/call asking for progress, and a task, through the SDK schema', () => {
    expect(checkMessage(call({ name: 'a', _meta: { progressToken: 'p' } })).kind).toBe('request');
    expect(checkMessage(call({ name: 'a', task: { ttl: 1000 } })).kind).toBe('request');
  });

  for (const id of [1.5, null, true, {}, [], 2 ** 53 + 2]) {
    it(`refuses the id ${JSON.stringify(id)} with -32600 and id null`, () => {
      expect(checkMessage({ jsonrpc: '2.0', id, method: 'ping' })).toEqual({
        kind: 'refused',
        id: null,
        error: { code: -32600, message: expect.stringContaining('"id" must be a string or an integer') },
      });
    });
  }

  it('refuses an extra top-level member with -32600 naming it, keeping the id', () => {
    expect(checkMessage({ jsonrpc: '2.0', id: 4, method: 'ping', parms: {} })).toEqual({
      kind: 'refused',
      id: 4,
      error: { code: -32600, message: 'Invalid Request: unknown member "parms"' },
    });
  });

  it('refuses a wrong or missing "jsonrpc" and a missing method with -32600', () => {
    for (const message of [
      { jsonrpc: '1.0', id: 5, method: 'ping' },
      { id: 5, method: 'ping' },
      { jsonrpc: '2.0', id: 5 },
      { jsonrpc: '2.0', id: 5, method: 7 },
    ]) {
      const checked = checkMessage(message);
      expect(checked, JSON.stringify(message)).toMatchObject({ kind: 'refused', id: 5, error: { code: -32600 } });
    }
  });

  it('refuses what is not an object with -32600 and id null', () => {
    for (const value of [5, 'x', null, [1]]) {
      expect(checkMessage(value)).toMatchObject({ kind: 'refused', id: null, error: { code: -32600 } });
    }
  });

  it('refuses params given as an array with -32602', () => {
    expect(checkMessage({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: [1] })).toEqual({
      kind: 'refused',
      id: 6,
      error: { code: -32602, message: 'Invalid params: "params" must be an object' },
    });
  });

  it('refuses a _meta that is not an object, or a bad progress token, with -32602', () => {
    for (const meta of [[], 'x', 3, null]) {
      expect(checkMessage(call({ name: 'a', _meta: meta }))).toEqual({
        kind: 'refused',
        id: 1,
        error: { code: -32602, message: 'Invalid params: "params._meta" must be an object' },
      });
    }
    expect(checkMessage(call({ name: 'a', _meta: { progressToken: 1.5 } }))).toMatchObject({
      error: { code: -32602, message: 'Invalid params: "params._meta.progressToken" must be a string or an integer' },
    });
  });

  it('refuses params the MCP schema of a known method refuses with -32602 naming the path', () => {
    expect(checkMessage(call({ name: 42 }))).toEqual({
      kind: 'refused',
      id: 1,
      error: { code: -32602, message: 'Invalid params: params.name: Invalid input: expected string, received number' },
    });
    expect(checkMessage(call({ name: 'a', arguments: [1] }))).toMatchObject({
      error: { code: -32602, message: expect.stringMatching(/^Invalid params: params\.arguments: /) },
    });
    expect(checkMessage({ jsonrpc: '2.0', id: 8, method: 'resources/read', params: {} })).toMatchObject({
      error: { code: -32602, message: expect.stringMatching(/^Invalid params: params\.uri: /) },
    });
    expect(checkMessage({ jsonrpc: '2.0', id: 9, method: 'tools/call' })).toMatchObject({
      error: { code: -32602, message: expect.stringMatching(/^Invalid params: params: /) },
    });
    expect(
      checkMessage({
        jsonrpc: '2.0',
        id: 10,
        method: 'completion/complete',
        params: { ref: { type: 'ref/prompt' }, argument: { name: 'a', value: 'b' } },
      }),
    ).toMatchObject({ error: { code: -32602, message: expect.stringMatching(/^Invalid params: params\.ref/) } });
  });

  it('drops a faulty notification or response instead of answering it', () => {
    expect(checkMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: [] })).toMatchObject({
      kind: 'dropped',
      error: { code: -32602 },
    });
    expect(
      checkMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1.5 } }),
    ).toMatchObject({ kind: 'dropped', error: { code: -32602 } });
    expect(checkMessage({ jsonrpc: '2.0', method: 'notifications/initialized', extra: 1 })).toMatchObject({
      kind: 'dropped',
      error: { code: -32600 },
    });
    expect(checkMessage({ jsonrpc: '2.0', id: 1, result: 5 })).toMatchObject({ kind: 'dropped' });
  });
});

describe('judgeMessages', () => {
  const ping = (id: unknown) => ({ jsonrpc: '2.0', id, method: 'ping' });
  const context = { opening: false, inFlight: (id: unknown) => id === 'busy' };

  it('keeps accepted messages in order and answers each refused request', () => {
    const judged = judgeMessages(
      [ping(1), { jsonrpc: '2.0', method: 'notifications/initialized' }, ping(1.5)],
      context,
    );
    expect(judged.accepted.map((m) => ('id' in m ? m.id : 'note'))).toEqual([1, 'note']);
    expect(judged.requests.map((r) => r.id)).toEqual([1]);
    expect(judged.refusals).toEqual([{ jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32600 }) }]);
    expect(judged.dropped).toBeUndefined();
  });

  it('refuses an id in flight, an id repeated in the batch, and initialize after the first', () => {
    const initialize = { jsonrpc: '2.0', id: 'i', method: 'initialize', params: {} };
    const judged = judgeMessages([ping('busy'), ping(2), ping(2), initialize], context);
    expect(judged.requests.map((r) => r.id)).toEqual([2]);
    expect(judged.refusals.map((r) => (r as { error: { message: string } }).error.message)).toEqual([
      'Invalid Request: request id "busy" is already in flight',
      'Invalid Request: request id 2 is already in flight',
      expect.stringContaining('Invalid'),
    ]);
  });

  it('refuses what the gate refuses, and drops a notification it does not act on', () => {
    const judged = judgeMessages([ping(3), { jsonrpc: '2.0', method: 'notifications/whatever' }], {
      ...context,
      admit: () => ({ code: -32601, message: 'no' }),
    });
    expect(judged.requests).toEqual([]);
    expect(judged.accepted).toEqual([]);
    expect(judged.refusals).toEqual([{ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'no' } }]);
  });

  it('remembers the first fault of a dropped notification', () => {
    const judged = judgeMessages([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: [] }], context);
    expect(judged.dropped).toMatchObject({ code: -32602 });
  });
});

describe('the message naming a param at fault', () => {
  it('says a missing param is required', () => {
    expect(checkMessage({ jsonrpc: '2.0', id: 9, method: 'resources/read', params: {} })).toEqual({
      kind: 'refused',
      id: 9,
      error: { code: -32602, message: 'Invalid params: params.uri: required (expected string)' },
    });
  });
});
