import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import {
  connectClient,
  EVERYTHING,
  nodeBackend,
  startGateway,
  text,
  TOY,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const ready = (running: RunningGateway) =>
  waitFor(() => running.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);

/**
 * One gateway serving a 2026-07-28 client (SDK 2.x, pinned to the revision: stateless requests,
 * no initialize, no session) and a 2025-11-25 client (SDK 1.x, a session) side by side.
 */
describe('a 2026-07-28 client and a 2025-11-25 client on one gateway', () => {
  let running: RunningGateway;
  let modern: ModernClient;

  beforeAll(async () => {
    running = await startGateway({ everything: nodeBackend(EVERYTHING), toy: nodeBackend(TOY) });
    await ready(running);
    modern = new ModernClient(
      { name: 'modern-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await modern.connect(
      new ModernTransport(running.mcpUrl, {
        requestInit: { headers: { authorization: `Bearer ${running.token}` } },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await modern?.close();
    await running?.[Symbol.asyncDispose]();
  });

  it('negotiates 2026-07-28 without a session, and discovers the federated capabilities', async () => {
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const capabilities = modern.getServerCapabilities();
    expect(capabilities?.tools).toBeDefined();
    expect(capabilities?.prompts).toBeDefined();
    expect(modern.getServerVersion()?.name).toBe('cortex-gateway');
  });

  it('lists and calls the same tools as a 2025-11-25 client does', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const [modernTools, legacyTools] = await Promise.all([modern.listTools(), legacy.client.listTools()]);
    expect(modernTools.tools.map((t) => t.name).sort()).toEqual(legacyTools.tools.map((t) => t.name).sort());
    expect(modernTools.tools.map((t) => t.name)).toContain('toy__echo');

    const [fromModern, fromLegacy] = await Promise.all([
      modern.callTool({ name: 'toy__echo', arguments: { text: 'new revision' } }),
      legacy.client.callTool({ name: 'toy__echo', arguments: { text: 'old revision' } }),
    ]);
    expect(text(fromModern)).toBe('new revision');
    expect(text(fromLegacy)).toBe('old revision');
  });

  it('answers a resource nobody serves with the code of its revision: -32002 in 2025-11-25, -32602 in 2026-07-28', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const uri = 'nothing://here';
    await expect(legacy.client.readResource({ uri })).rejects.toMatchObject({ code: -32002, data: { uri } });
    await expect(modern.readResource({ uri })).rejects.toMatchObject({ code: -32602, data: { uri } });
  });

  it('serves prompts, resources, templates and completions to the 2026-07-28 client', async () => {
    const prompts = await modern.listPrompts();
    const simple = prompts.prompts.find((p) => p.name.endsWith('simple-prompt'));
    expect(simple).toBeDefined();
    const prompt = await modern.getPrompt({ name: simple!.name });
    expect(prompt.messages.length).toBeGreaterThan(0);

    const resources = await modern.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    const read = await modern.readResource({ uri: resources.resources[0]!.uri });
    expect(read.contents[0]!.uri).toBe(resources.resources[0]!.uri);

    const templates = await modern.listResourceTemplates();
    expect(templates.resourceTemplates.length).toBeGreaterThan(0);

    const args = prompts.prompts.find((p) => (p.arguments ?? []).length > 0);
    expect(args).toBeDefined();
    const completion = await modern.complete({
      ref: { type: 'ref/prompt', name: args!.name },
      argument: { name: args!.arguments![0]!.name, value: '' },
    });
    expect(Array.isArray(completion.completion.values)).toBe(true);
  });

  it('relays progress to the 2026-07-28 client', async () => {
    const seen: number[] = [];
    const result = await modern.callTool(
      { name: 'toy__count', arguments: { steps: 3 } },
      { onprogress: (progress) => seen.push(progress.progress) },
    );
    expect(text(result)).toBe('counted to 3');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('answers an unknown tool as a 2026-07-28 error, not a session error', async () => {
    await expect(modern.callTool({ name: 'toy__nope', arguments: {} })).rejects.toThrow(/Unknown tool/);
  });
});

/** The wire rules of the revision, seen with plain fetch. */
describe('2026-07-28 on the wire', () => {
  let running: RunningGateway;
  beforeAll(async () => {
    running = await startGateway({ toy: nodeBackend(TOY) });
    await ready(running);
  }, 60_000);
  afterAll(async () => running?.[Symbol.asyncDispose]());

  const META = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(running.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${running.token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        ...headers,
      },
      body: JSON.stringify(body),
    });

  it('marks list results cacheable per client (ttlMs, private) and gives no session id', async () => {
    const res = await post(
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } },
      { 'mcp-method': 'tools/list' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const body = (await res.json()) as { result: { ttlMs: number; cacheScope: string; resultType: string } };
    expect(body.result.cacheScope).toBe('private');
    expect(body.result.ttlMs).toBeGreaterThan(0);
    expect(body.result.resultType).toBe('complete');
  });

  it('answers a plain tools/call as the revision shapes it (resultType, server info), and an unknown tool with -32602', async () => {
    const call = (name: string) =>
      post(
        { jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name, arguments: { text: 'hi' }, _meta: META } },
        { 'mcp-method': 'tools/call', 'mcp-name': name },
      );
    const ok = await call('toy__echo');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { id: string; result: Record<string, unknown> };
    expect(body.id).toBe('c1');
    expect(body.result.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(body.result.resultType).toBe('complete');
    expect(body.result._meta).toEqual({
      'io.modelcontextprotocol/serverInfo': { name: 'cortex-gateway', version: expect.any(String) },
    });

    const unknown = await call('toy__nope');
    expect(unknown.status).toBe(200);
    expect(((await unknown.json()) as { error: { code: number; message: string } }).error).toMatchObject({
      code: -32602,
      message: 'Unknown tool: toy__nope',
    });
  });

  it('refuses a tools/call whose _meta lacks the client capabilities, with 400 and -32602', async () => {
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 'c2',
        method: 'tools/call',
        params: {
          name: 'toy__echo',
          arguments: { text: 'x' },
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' },
        },
      },
      { 'mcp-method': 'tools/call', 'mcp-name': 'toy__echo' },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32602);
  });

  it('refuses an Mcp-Method header that disagrees with the body', async () => {
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: META } },
      { 'mcp-method': 'prompts/list' },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { id: unknown; error: { code: number } };
    expect(body.id).toBe(2);
    expect(body.error.code).toBe(-32020);
  });

  it('refuses an Mcp-Name header that disagrees with the tool called', async () => {
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'toy__echo', arguments: { text: 'x' }, _meta: META },
      },
      { 'mcp-method': 'tools/call', 'mcp-name': 'toy__other' },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it('answers methods the revision removed with 404 and -32601', async () => {
    const res = await post(
      { jsonrpc: '2.0', id: 4, method: 'ping', params: { _meta: META } },
      { 'mcp-method': 'ping' },
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
  });

  it('still asks a request without a session or a revision claim for a session', async () => {
    const res = await post({ jsonrpc: '2.0', id: 5, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Mcp-Session-Id/);
  });

  it('keeps the grant: a token without the backend does not see or call its tools', async () => {
    const { token } = await running.gateway.createPersonalToken({ name: 'narrow', scopes: [], ttlSeconds: 600 });
    const list = await fetch(running.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: META } }),
    });
    const tools = ((await list.json()) as { result: { tools: Array<{ name: string }> } }).result.tools;
    expect(tools.map((t) => t.name)).not.toContain('toy__echo');
  });
});
