import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOY, nodeBackend, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, openSse, rawMcp } from '../helpers/raw-mcp.js';

/** The toy server's `log` tool sends notifications/message while its call is in flight. */
describe('a backend log message during a call', () => {
  let gw: RunningGateway;
  const logCall = (id: string, meta?: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'toy__log', arguments: { message: `during ${id}` }, ...(meta && { _meta: meta }) },
  });
  const parsed = (events: Array<{ data: string }>) =>
    events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as Record<string, unknown>);

  beforeAll(async () => {
    gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  it('travels on that call’s SSE stream, before its response, and not on the standalone stream', async () => {
    const session = await openSession(gw.mcpUrl, gw.token);
    await using standalone = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session });
    await using call = await openSse(gw.mcpUrl, {
      token: gw.token,
      sessionId: session,
      body: logCall('l1', { progressToken: 'l1' }),
    });
    await call.ended;
    const messages = parsed(call.events());
    expect(messages).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'warning', logger: 'toy/toy', data: 'during l1' },
      },
      expect.objectContaining({ id: 'l1', result: expect.anything() }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(parsed(standalone.events())).toEqual([]);
  });

  it('goes on the standalone stream when the call is answered as JSON', async () => {
    const session = await openSession(gw.mcpUrl, gw.token);
    await using standalone = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session });
    const answer = await rawMcp(gw.mcpUrl, { token: gw.token, sessionId: session, body: logCall('l2') });
    expect(answer.headers['content-type']).toBe('application/json');
    await waitFor(() => parsed(standalone.events()).length === 1, 'log on the standalone stream');
    expect(parsed(standalone.events())[0]).toMatchObject({
      method: 'notifications/message',
      params: { data: 'during l2' },
    });
  });

  it('reaches another session calling nothing on its standalone stream', async () => {
    const caller = await openSession(gw.mcpUrl, gw.token);
    const watcher = await openSession(gw.mcpUrl, gw.token);
    await using watching = await openSse(gw.mcpUrl, { token: gw.token, sessionId: watcher });
    await using call = await openSse(gw.mcpUrl, {
      token: gw.token,
      sessionId: caller,
      body: logCall('l3', { progressToken: 'l3' }),
    });
    await call.ended;
    await waitFor(() => parsed(watching.events()).length === 1, 'log on the watcher’s standalone stream');
    expect(parsed(watching.events())[0]).toMatchObject({ params: { data: 'during l3' } });
  });
});
