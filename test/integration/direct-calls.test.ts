import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  nodeBackend,
  startGateway,
  text,
  TOY,
  waitFor,
  type ConnectedClient,
  type RunningGateway,
} from '../helpers/gateway.js';

// A plain tools/call (no progress token) is answered by the gateway's transport without the SDK's
// protocol layer; one that asks for progress still goes through the SDK. Both must look the same.
describe('tools/call answered without the SDK protocol layer', () => {
  let gw: RunningGateway;
  let session: ConnectedClient;

  beforeAll(async () => {
    gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
    session = await connectClient(gw.mcpUrl);
  });

  afterAll(async () => {
    await session?.[Symbol.asyncDispose]();
    await gw?.[Symbol.asyncDispose]();
  });

  function post(sessionId: string, params: Record<string, unknown>, id: number | string = 7): Promise<Response> {
    return fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
    });
  }

  async function bothWays(params: Record<string, unknown>) {
    const id = session.transport.sessionId!;
    const plain = await post(id, params);
    const withProgress = await post(id, { ...params, _meta: { progressToken: 'p' } });
    return {
      plain: { status: plain.status, type: plain.headers.get('content-type'), body: await plain.text() },
      sdk: {
        status: withProgress.status,
        type: withProgress.headers.get('content-type'),
        body: await withProgress.text(),
      },
      session: plain.headers.get('mcp-session-id'),
    };
  }

  it('answers a relayed result byte for byte as the SDK path does', async () => {
    const { plain, sdk, session: header } = await bothWays({ name: 'toy__echo', arguments: { text: 'hi' } });
    expect(plain).toEqual(sdk);
    expect(JSON.parse(plain.body)).toEqual({
      result: { content: [{ type: 'text', text: 'hi' }] },
      jsonrpc: '2.0',
      id: 7,
    });
    expect(header).toBe(session.transport.sessionId);
  });

  it('answers an unknown tool with the same -32602 error as the SDK path', async () => {
    const { plain, sdk } = await bothWays({ name: 'toy__nope', arguments: {} });
    expect(plain).toEqual(sdk);
    expect(JSON.parse(plain.body)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32602, message: 'Unknown tool: toy__nope' },
    });
  });

  it('answers params the light schema refuses exactly as the SDK path does', async () => {
    const { plain, sdk } = await bothWays({ name: 42 });
    expect(plain).toEqual(sdk);
    expect((JSON.parse(plain.body) as { error: { code: number } }).error.code).toBe(-32603);
  });

  it('answers the builtins the same way', async () => {
    const { plain, sdk } = await bothWays({ name: 'find_tools', arguments: { query: 'echo' } });
    expect(plain).toEqual(sdk);
    expect(plain.body).toContain('toy__echo');
  });

  it('cancels a running call at the backend when its session ends', async () => {
    const count = async () => Number(text(await session.client.callTool({ name: 'toy__cancellations' })));
    const before = await count();
    await using other = await connectClient(gw.mcpUrl);
    const hanging = post(other.transport.sessionId!, { name: 'toy__hang', arguments: {} }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await other.transport.terminateSession();
    await waitFor(async () => (await count()) === before + 1, 'cancellation at the backend');
    await hanging;
  });
});
