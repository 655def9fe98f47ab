import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, nodeBackend, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, openSse, rawMcp } from '../helpers/raw-mcp.js';

/**
 * A cancelled tools/call ends its HTTP response (MCP 2025-11-25 basic/utilities/cancellation), in
 * every way a call can be answered: JSON or SSE, through the SDK's protocol layer (a progress
 * token) or the direct fast path. server-everything's long-running operation takes 30 s here;
 * each response must end within a few seconds of the cancellation.
 */
describe('a cancelled call against server-everything', () => {
  let gw: RunningGateway;
  let session: string;
  const longCall = (id: string, progress: boolean) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'everything__trigger-long-running-operation',
      arguments: { duration: 30, steps: 60 },
      ...(progress && { _meta: { progressToken: id } }),
    },
  });
  const cancel = (requestId: string) =>
    rawMcp(gw.mcpUrl, {
      token: gw.token,
      sessionId: session,
      body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'stop' } },
    });

  beforeAll(async () => {
    gw = await startGateway({ everything: nodeBackend(EVERYTHING, ['stdio']) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'server-everything ready', 30_000);
    session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  const modes: Array<[string, boolean, string, string]> = [
    ['JSON, direct path', false, 'application/json, text/event-stream', 'application/json'],
    ['JSON, SDK path (progress asked)', true, 'application/json', 'application/json'],
    ['SSE, SDK path (progress asked)', true, 'application/json, text/event-stream', 'text/event-stream'],
    ['SSE, direct path (client accepts only SSE)', false, 'text/event-stream', 'text/event-stream'],
  ];

  for (const [mode, progress, accept, type] of modes) {
    it(`ends the response: ${mode}`, async () => {
      const id = `cancel-${mode}`;
      const pending = rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        accept,
        body: longCall(id, progress),
        timeoutMs: 8_000,
      });
      // The call reaches the gateway at once on loopback; give it time to reach the backend too.
      await new Promise((resolve) => setTimeout(resolve, 700));
      const cancelled = Date.now();
      expect((await cancel(id)).status).toBe(202);
      const answer = await pending;
      expect(Date.now() - cancelled).toBeLessThan(3_000);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(type);
      const response = answer.messages.find((m) => m.id === id);
      if (type === 'application/json') {
        // A JSON POST needs a body: an error the client ignores (basic/utilities/cancellation 6).
        expect(response).toMatchObject({ error: { code: -32800 } });
      } else {
        // On SSE nothing is sent for it; the stream just ends.
        expect(response).toBeUndefined();
      }
    });
  }

  it('ends an SSE response whose progress was already streaming', async () => {
    await using stream = await openSse(gw.mcpUrl, {
      token: gw.token,
      sessionId: session,
      body: longCall('c-stream', true),
    });
    await waitFor(() => stream.events().some((e) => e.data.includes('notifications/progress')), 'progress streaming');
    await cancel('c-stream');
    await stream.ended;
    expect(stream.events().some((e) => e.data.includes('"result"'))).toBe(false);
  });
});
