import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOY, connectClient, nodeBackend, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, openSse, rawMcp } from '../helpers/raw-mcp.js';

/**
 * The transport rules that depend on the revision a session negotiated (MCP 2025-03-26,
 * 2025-06-18, 2025-11-25 basic/transports): the MCP-Protocol-Version header, batches, and the
 * priming events, event ids and resumption of SSE streams.
 */
describe('rules per negotiated revision', () => {
  let gw: RunningGateway;
  const ping = (id: unknown) => ({ jsonrpc: '2.0', id, method: 'ping' });
  const post = (sessionId: string, body: unknown, extra: { protocolVersion?: string | null; accept?: string } = {}) =>
    rawMcp(gw.mcpUrl, { token: gw.token, sessionId, body, ...extra });

  beforeAll(async () => {
    gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  describe('MCP-Protocol-Version', () => {
    it('accepts the negotiated version, and a request without the header', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-06-18');
      expect((await post(session, ping(1))).status).toBe(200);
      expect((await post(session, ping(2), { protocolVersion: null })).status).toBe(200);
    });

    it('refuses a supported version other than the negotiated one with 400', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-06-18');
      const answer = await post(session, ping(3), { protocolVersion: '2025-11-25' });
      expect(answer.status).toBe(400);
      expect(answer.messages[0]).toMatchObject({
        id: 3,
        error: { code: -32000, message: expect.stringContaining('negotiated for this session (2025-06-18)') },
      });
    });

    it('refuses an unsupported version with 400', async () => {
      const session = await openSession(gw.mcpUrl, gw.token);
      const answer = await post(session, ping(4), { protocolVersion: '2031-01-01' });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('unsupported protocol version 2031-01-01');
    });

    it('checks GET and DELETE too', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      for (const method of ['GET', 'DELETE']) {
        const answer = await rawMcp(gw.mcpUrl, {
          token: gw.token,
          sessionId: session,
          method,
          accept: 'text/event-stream',
          protocolVersion: '2025-03-26',
        });
        expect(answer.status, method).toBe(400);
      }
    });
  });

  describe('batches', () => {
    for (const version of ['2025-06-18', '2025-11-25']) {
      it(`are refused as a whole on a ${version} session`, async () => {
        const session = await openSession(gw.mcpUrl, gw.token, version);
        const answer = await post(session, [ping('a'), ping('b')]);
        expect(answer.status).toBe(400);
        expect(answer.messages).toEqual([
          {
            jsonrpc: '2.0',
            id: null,
            error: { code: -32600, message: expect.stringContaining('batches are not supported') },
          },
        ]);
      });
    }

    it('are answered on a 2025-03-26 session', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-03-26');
      const answer = await post(session, [ping('a'), ping('b')]);
      expect(answer.status).toBe(200);
      expect(answer.messages).toEqual([
        { jsonrpc: '2.0', id: 'a', result: {} },
        { jsonrpc: '2.0', id: 'b', result: {} },
      ]);
    });
  });

  describe('SSE streams', () => {
    const progressCall = (id: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'toy__count', arguments: { steps: 2 }, _meta: { progressToken: id } },
    });

    it('start with a priming event on a 2025-11-25 session, and every event has an id', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      await using stream = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session, body: progressCall('s1') });
      await stream.ended;
      const events = stream.events();
      expect(events[0]).toEqual({ id: expect.stringMatching(/^p\d+$/), data: '' });
      expect(events.slice(1).map((e) => JSON.parse(e.data).method ?? 'response')).toEqual([
        'notifications/progress',
        'notifications/progress',
        'response',
      ]);
      const ids = events.map((e) => e.id);
      expect(ids.every((id) => id !== undefined)).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('have ids but no priming event on a 2025-06-18 session', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-06-18');
      await using stream = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session, body: progressCall('s2') });
      await stream.ended;
      const events = stream.events();
      expect(events.every((e) => e.data !== '' && e.id !== undefined)).toBe(true);
      expect(events).toHaveLength(3);
    });

    it('resume the standalone stream after Last-Event-ID, replaying what was missed', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      const addTool = (id: string) =>
        post(session, { ...ping(id), method: 'tools/call', params: { name: 'toy__add_tool' } });
      const first = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session });
      expect(first.status).toBe(200);
      await waitFor(() => first.events().length === 1, 'priming event');
      const [priming] = first.events();
      expect(priming).toEqual({ id: expect.stringMatching(/^s\d+$/), data: '' });
      await addTool('t1');
      await waitFor(() => first.events().length === 2, 'first list_changed on the stream');
      const seen = first.events()[1]!;
      expect(JSON.parse(seen.data)).toMatchObject({ method: 'notifications/tools/list_changed' });
      first.drop();
      await first.ended;

      // While the client is away, the list changes again: the event is kept for it.
      await addTool('t2');
      await new Promise((resolve) => setTimeout(resolve, 600));
      await using second = await openSse(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        headers: { 'last-event-id': seen.id! },
      });
      expect(second.status).toBe(200);
      await waitFor(() => second.events().some((e) => e.data !== ''), 'replayed event');
      const replayed = second.events().filter((e) => e.data !== '');
      expect(replayed.map((e) => JSON.parse(e.data).method)).toEqual(['notifications/tools/list_changed']);
      expect(Number(replayed[0]!.id!.slice(1))).toBeGreaterThan(Number(seen.id!.slice(1)));
    });

    it('lets a resuming GET replace a stream the server still thinks open; a plain second GET gets 409', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      await using first = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session });
      await waitFor(() => first.events().length === 1, 'priming event');
      const conflict = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        method: 'GET',
        accept: 'text/event-stream',
      });
      expect(conflict.status).toBe(409);
      await using second = await openSse(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        headers: { 'last-event-id': first.events()[0]!.id! },
      });
      expect(second.status).toBe(200);
      await first.ended;
    });

    it('answers 405 to a GET resuming a POST stream that has nothing more to send, so an SDK client stops there', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      await using call = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session, body: progressCall('s3') });
      await call.ended;
      const resume = (id: string) =>
        rawMcp(gw.mcpUrl, {
          token: gw.token,
          sessionId: session,
          method: 'GET',
          accept: 'text/event-stream',
          headers: { 'last-event-id': id },
        });
      expect((await resume(call.events().at(-1)!.id!)).status).toBe(405);
      // From an earlier id, the rest of that stream is replayed (sse-resume.test.ts).
      const replayed = await resume(call.events()[0]!.id!);
      expect(replayed.status).toBe(200);
      expect(replayed.messages.at(-1)).toMatchObject({ id: 's3', result: {} });
    });

    it('leave an SDK client without transport errors after a progress call that failed', async () => {
      await using session = await connectClient(gw.mcpUrl);
      const errors: string[] = [];
      session.client.onerror = (error) => errors.push(String(error));
      const call = session.client.callTool({ name: 'nobody__x', arguments: {} }, undefined, { onprogress: () => {} });
      await expect(call).rejects.toMatchObject({ code: -32602 });
      // The SDK client reconnects after its first backoff step (1 s) when it thinks it may resume.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(errors).toEqual([]);
    });
  });
});
