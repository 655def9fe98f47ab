import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, nodeBackend, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, rawMcp, type RawAnswer } from '../helpers/raw-mcp.js';

const SLOW = join(ROOT, 'test/fixtures/slow-server.mjs');

/** The slow fixture appends "start <tag>" / "cancelled <tag>" to this file. */
function marksFile(): { path: string; lines: () => string[]; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cortex-slow-'));
  const path = join(dir, 'marks');
  return {
    path,
    lines: () => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const call = (id: unknown, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

function only(answer: RawAnswer): Record<string, unknown> {
  expect(answer.messages, answer.body).toHaveLength(1);
  return answer.messages[0]!;
}

describe('every message on /mcp gets an answer', () => {
  const marks = marksFile();
  let gw: RunningGateway;
  let session: string;
  /** A 2025-03-26 session: batches exist up to that revision. */
  let batchSession: string;
  const post = (body: unknown, options: { accept?: string; sessionId?: string; token?: string } = {}) =>
    rawMcp(gw.mcpUrl, { ...options, token: options.token ?? gw.token, sessionId: options.sessionId ?? session, body });

  beforeAll(async () => {
    gw = await startGateway({ slow: nodeBackend(SLOW, [], { SLOW_MARKS: marks.path }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'slow backend ready', 30_000);
    session = await openSession(gw.mcpUrl, gw.token);
    batchSession = await openSession(gw.mcpUrl, gw.token, '2025-03-26');
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
    marks[Symbol.dispose]();
  });

  describe('faulty messages get the exact JSON-RPC error', () => {
    for (const id of [1.5, null, true, {}, 2 ** 53 + 2]) {
      it(`refuses the id ${JSON.stringify(id)} with -32600 and id null`, async () => {
        const answer = await post({ jsonrpc: '2.0', id, method: 'tools/list' });
        expect(answer.status).toBe(200);
        expect(only(answer)).toEqual({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32600,
            message: 'Invalid Request: "id" must be a string or an integer (not null, not fractional, at most 2^53-1)',
          },
        });
      });
    }

    it('refuses an extra top-level member with -32600 naming it', async () => {
      const answer = await post({ jsonrpc: '2.0', id: 'extra', method: 'tools/list', parms: { cursor: 'x' } });
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 'extra',
        error: { code: -32600, message: 'Invalid Request: unknown member "parms"' },
      });
    });

    it('refuses params given as an array with -32602', async () => {
      const answer = await post({ jsonrpc: '2.0', id: 'array', method: 'tools/list', params: ['x'] });
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 'array',
        error: { code: -32602, message: 'Invalid params: "params" must be an object' },
      });
    });

    it('refuses a _meta that is not an object with -32602', async () => {
      const answer = await post({
        jsonrpc: '2.0',
        id: 'meta',
        method: 'tools/call',
        params: { name: 'x', _meta: 'x' },
      });
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 'meta',
        error: { code: -32602, message: 'Invalid params: "params._meta" must be an object' },
      });
    });

    it('refuses params the MCP schema refuses with -32602 naming the param', async () => {
      const answer = await post({ jsonrpc: '2.0', id: 'schema', method: 'resources/read', params: { uri: 7 } });
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 'schema',
        error: { code: -32602, message: 'Invalid params: params.uri: Invalid input: expected string, received number' },
      });
    });

    it('answers each faulty element of a batch beside the good ones', async () => {
      const answer = await post(
        [
          { jsonrpc: '2.0', id: 'b1', method: 'ping' },
          { jsonrpc: '2.0', id: 1.5, method: 'ping' },
          { jsonrpc: '2.0', id: 'b3', method: 'ping', params: [] },
          { jsonrpc: '2.0', method: 'notifications/initialized', extra: true },
          7,
        ],
        { sessionId: batchSession },
      );
      expect(answer.status).toBe(200);
      const byId = answer.messages.map((m) => [m.id, (m.error as { code?: number } | undefined)?.code ?? 'ok']);
      expect(byId).toEqual(
        expect.arrayContaining([
          ['b1', 'ok'],
          [null, -32600],
          ['b3', -32602],
          [null, -32600],
        ]),
      );
      expect(answer.messages).toHaveLength(4);
    });

    it('answers a body of only a faulty notification with 400 and an error without id', async () => {
      const answer = await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: [] });
      expect(answer.status).toBe(400);
      expect(only(answer)).toMatchObject({ id: null, error: { code: -32602 } });
    });

    it('refuses a second request with the id of one in flight, and the first completes untouched', async () => {
      const first = post(call('dup', 'slow__sleep', { tag: 'dup', ms: 600 }));
      await waitFor(() => marks.lines().includes('start dup'), 'first call at the backend');
      const second = await post(call('dup', 'slow__sleep', { tag: 'dup-2', ms: 1 }));
      expect(only(second)).toEqual({
        jsonrpc: '2.0',
        id: 'dup',
        error: { code: -32600, message: 'Invalid Request: request id "dup" is already in flight' },
      });
      expect(only(await first)).toEqual({
        jsonrpc: '2.0',
        id: 'dup',
        result: { content: [{ type: 'text', text: 'sleep dup done' }] },
      });
      expect(marks.lines()).not.toContain('start dup-2');
      // Answered, the id is free again.
      expect(only(await post(call('dup', 'slow__sleep', { ms: 1 })))).toMatchObject({ id: 'dup', result: {} });
    });

    it('answers a task-augmented tools/call on a session not offered tasks as an ordinary call', async () => {
      // MCP 2025-11-25 basic/utilities/tasks: a receiver that does not declare tasks for a request
      // type processes it normally, ignoring the task augmentation (no backend here has tasks).
      const params = { name: 'slow__sleep', arguments: { tag: 'task', ms: 1 }, task: { ttl: 60_000 } };
      expect(only(await post({ jsonrpc: '2.0', id: 't', method: 'tools/call', params }))).toEqual({
        jsonrpc: '2.0',
        id: 't',
        result: { content: [{ type: 'text', text: 'sleep task done' }] },
      });
    });

    it('refuses a repeated id inside one batch', async () => {
      const answer = await post(
        [
          { jsonrpc: '2.0', id: 'twice', method: 'ping' },
          { jsonrpc: '2.0', id: 'twice', method: 'ping' },
        ],
        { sessionId: batchSession },
      );
      expect(answer.messages).toEqual(
        expect.arrayContaining([
          { jsonrpc: '2.0', id: 'twice', result: {} },
          {
            jsonrpc: '2.0',
            id: 'twice',
            error: { code: -32600, message: 'Invalid Request: request id "twice" is already in flight' },
          },
        ]),
      );
    });
  });

  describe('HTTP-level errors carry the id of the request', () => {
    it('404 for an unknown session', async () => {
      const answer = await post({ jsonrpc: '2.0', id: 41, method: 'tools/list' }, { sessionId: 'nope' });
      expect(answer.status).toBe(404);
      expect(only(answer)).toEqual({ jsonrpc: '2.0', id: 41, error: { code: -32001, message: 'Session not found' } });
    });

    it('400 for a request without a session', async () => {
      const answer = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        body: { jsonrpc: '2.0', id: 42, method: 'tools/list' },
      });
      expect(answer.status).toBe(400);
      expect(only(answer)).toMatchObject({ id: 42, error: { code: -32000 } });
    });

    it('400 for an initialize with bad params, which opens no session', async () => {
      const answer = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        body: { jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25' } },
      });
      expect(answer.status).toBe(400);
      expect(answer.headers['mcp-session-id']).toBeUndefined();
      expect(only(answer)).toMatchObject({
        id: 'init',
        error: { code: -32602, message: expect.stringMatching(/^Invalid params: params\.capabilities: /) },
      });
    });

    it('503 while paused', async () => {
      gw.gateway.setPaused(true);
      try {
        const answer = await post({ jsonrpc: '2.0', id: 43, method: 'tools/list' });
        expect(answer.status).toBe(503);
        expect(only(answer)).toMatchObject({ id: 43, error: { code: -32000 } });
      } finally {
        gw.gateway.setPaused(false);
      }
    });

    it('403 insufficient_scope', async () => {
      const { token } = await gw.gateway.createPersonalToken({
        name: 'reader',
        scopes: ['mcp:slow:read'],
        ttlSeconds: 600,
      });
      const reader = await openSession(gw.mcpUrl, token);
      const answer = await post(call(44, 'slow__sleep', { ms: 1 }), { sessionId: reader, token });
      expect(answer.status).toBe(403);
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 44,
        error: { code: -32003, message: 'insufficient_scope: this call needs the scope mcp:slow:write' },
      });
    });

    it('415 for a body that is not declared JSON', async () => {
      const answer = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        contentType: 'text/plain',
        body: { jsonrpc: '2.0', id: 45, method: 'tools/list' },
      });
      expect(answer.status).toBe(415);
      expect(only(answer)).toMatchObject({ id: 45 });
    });
  });

  describe('a cancelled call', () => {
    const cancel = (requestId: string) =>
      post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'user stop' } });

    it('ends its JSON-mode POST with an error for the cancelled id, and the backend hears of it', async () => {
      const pending = post(call('c-json', 'slow__hang', { tag: 'c-json' }), { accept: 'application/json' });
      await waitFor(() => marks.lines().includes('start c-json'), 'call at the backend');
      expect((await cancel('c-json')).status).toBe(202);
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 'c-json',
        error: { code: -32800, message: 'Request cancelled: user stop' },
      });
      await waitFor(() => marks.lines().includes('cancelled c-json'), 'cancellation at the backend');
    });

    it('ends its SSE stream without a response (the SDK path, with a progress token)', async () => {
      const pending = post(call('c-sse', 'slow__hang', { tag: 'c-sse' }, { progressToken: 'p' }));
      await waitFor(() => marks.lines().includes('start c-sse'), 'call at the backend');
      expect((await cancel('c-sse')).status).toBe(202);
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/event-stream');
      expect(answer.messages.filter((m) => m.id === 'c-sse')).toEqual([]);
      await waitFor(() => marks.lines().includes('cancelled c-sse'), 'cancellation at the backend');
    });

    it('ends an SSE-only client stream on the direct path too', async () => {
      const pending = post(call('c-sse2', 'slow__hang', { tag: 'c-sse2' }), { accept: 'text/event-stream' });
      await waitFor(() => marks.lines().includes('start c-sse2'), 'call at the backend');
      await cancel('c-sse2');
      const answer = await pending;
      expect(answer.headers['content-type']).toBe('text/event-stream');
      expect(answer.messages).toEqual([]);
      // The id is free again.
      expect(only(await post(call('c-sse2', 'slow__sleep', { ms: 1 })))).toMatchObject({ id: 'c-sse2', result: {} });
    });
  });

  describe('the backstop (gateway.requestTimeoutMs)', () => {
    let fast: RunningGateway;
    let fastSession: string;
    const fastPost = (body: unknown) => rawMcp(fast.mcpUrl, { token: fast.token, sessionId: fastSession, body });

    beforeAll(async () => {
      // The backend's own timeout (60 s) is far away: only the backstop can answer in time.
      fast = await startGateway({ slow: nodeBackend(SLOW, [], { SLOW_MARKS: marks.path }) }, { requestTimeoutMs: 400 });
      await waitFor(() => fast.gateway.backendStatuses()[0]!.state === 'ready', 'slow backend ready', 30_000);
      fastSession = await openSession(fast.mcpUrl, fast.token);
    });

    afterAll(async () => {
      await fast?.[Symbol.asyncDispose]();
    });

    it('answers a call whose handler never settles with -32001, and cancels it at the backend', async () => {
      const answer = await fastPost(call('t1', 'slow__hang', { tag: 't1' }));
      expect(only(answer)).toEqual({
        jsonrpc: '2.0',
        id: 't1',
        error: { code: -32001, message: 'Cortex Gateway did not complete tools/call within 400 ms' },
      });
      expect(answer.ms).toBeLessThan(5_000);
      await waitFor(() => marks.lines().includes('cancelled t1'), 'cancellation at the backend');
    });

    it('answers on the SDK path too (a call with a progress token that never reports)', async () => {
      const answer = await fastPost(call('t2', 'slow__hang', { tag: 't2' }, { progressToken: 't2' }));
      expect(answer.messages).toEqual([
        {
          jsonrpc: '2.0',
          id: 't2',
          error: { code: -32001, message: 'Cortex Gateway did not complete tools/call within 400 ms' },
        },
      ]);
      await waitFor(() => marks.lines().includes('cancelled t2'), 'cancellation at the backend');
    });

    it('lets a long call that reports progress run past it', async () => {
      const answer = await fastPost(call('t3', 'slow__tick', { tag: 't3', ms: 1500, every: 50 }, { progressToken: 7 }));
      const response = answer.messages.find((m) => m.id === 't3');
      expect(response).toEqual({
        jsonrpc: '2.0',
        id: 't3',
        result: { content: [{ type: 'text', text: 'tick t3 done' }] },
      });
      expect(answer.messages.filter((m) => m.method === 'notifications/progress').length).toBeGreaterThan(5);
    });
  });
});
