import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  nodeBackend,
  ROOT,
  startGateway,
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
  // The slow fixture notes each call it starts and each cancellation it gets in this file.
  const dir = mkdtempSync(join(tmpdir(), 'cortex-direct-'));
  const marks = join(dir, 'marks');
  const marked = (line: string) => existsSync(marks) && readFileSync(marks, 'utf8').split('\n').includes(line);

  beforeAll(async () => {
    gw = await startGateway({
      toy: nodeBackend(TOY),
      slow: nodeBackend(join(ROOT, 'test/fixtures/slow-server.mjs'), [], { SLOW_MARKS: marks }),
    });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);
    session = await connectClient(gw.mcpUrl);
  });

  afterAll(async () => {
    await session?.[Symbol.asyncDispose]();
    await gw?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
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

  it('refuses params the MCP schema refuses with -32602 naming the param, on both paths', async () => {
    const { plain, sdk } = await bothWays({ name: 42 });
    expect(plain).toEqual(sdk);
    expect(JSON.parse(plain.body)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32602, message: 'Invalid params: params.name: Invalid input: expected string, received number' },
    });
  });

  it('answers the builtins the same way', async () => {
    const { plain, sdk } = await bothWays({ name: 'find_tools', arguments: { query: 'echo' } });
    expect(plain).toEqual(sdk);
    expect(plain.body).toContain('toy__echo');
  });

  it('cancels a running call at the backend when its session ends, and answers it', async () => {
    await using other = await connectClient(gw.mcpUrl);
    const hanging = post(other.transport.sessionId!, { name: 'slow__hang', arguments: { tag: 'ended' } });
    await waitFor(() => marked('start ended'), 'call at the backend');
    await other.transport.terminateSession();
    await waitFor(() => marked('cancelled ended'), 'cancellation at the backend');
    expect(await (await hanging).json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32000, message: 'Session closed' },
    });
  });
});
