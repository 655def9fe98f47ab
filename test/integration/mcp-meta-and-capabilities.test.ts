import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  TOY,
  connectClient,
  nodeBackend,
  startGateway,
  text,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';

const META = join(ROOT, 'test/fixtures/meta-server.mjs');

describe('the request _meta reaches the backend', () => {
  let gw: RunningGateway;
  const meta = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'example.com/flag': { on: true },
  };

  beforeAll(async () => {
    gw = await startGateway({ meta: nodeBackend(META) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'meta backend ready', 30_000);
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  it('on tools/call (the direct path)', async () => {
    await using session = await connectClient(gw.mcpUrl);
    const result = await session.client.callTool({ name: 'meta__meta', arguments: {}, _meta: meta });
    expect(JSON.parse(text(result))).toEqual(meta);
  });

  it('on tools/call with a progress token, which stays the gateway’s own', async () => {
    await using session = await connectClient(gw.mcpUrl);
    const result = await session.client.callTool({ name: 'meta__meta', arguments: {}, _meta: meta }, undefined, {
      onprogress: () => {},
    });
    const got = JSON.parse(text(result)) as Record<string, unknown>;
    expect(got).toMatchObject(meta);
    // The backend saw a token the gateway chose for its hop, not the client's.
    expect(got.progressToken).toEqual(expect.any(Number));
  });

  it('on prompts/get, resources/read and completion/complete', async () => {
    await using session = await connectClient(gw.mcpUrl);
    const prompt = await session.client.getPrompt({ name: 'meta__meta', arguments: { word: 'x' }, _meta: meta });
    expect(JSON.parse((prompt.messages[0]!.content as { text: string }).text)).toEqual(meta);
    const resource = await session.client.readResource({ uri: 'meta://echo', _meta: meta });
    expect(JSON.parse((resource.contents[0] as { text: string }).text)).toEqual(meta);
    const completion = await session.client.complete({
      ref: { type: 'ref/prompt', name: 'meta__meta' },
      argument: { name: 'word', value: 'x' },
      _meta: { ...meta, progressToken: 'client-token' },
    });
    // The client's progress token is for its own hop: the backend gets the gateway's.
    const got = JSON.parse(completion.completion.values[0]!) as Record<string, unknown>;
    expect(got).toMatchObject(meta);
    expect(got.progressToken).not.toBe('client-token');
  });

  it('sends no _meta when the client sent none', async () => {
    await using session = await connectClient(gw.mcpUrl);
    expect(JSON.parse(text(await session.client.callTool({ name: 'meta__meta', arguments: {} })))).toBeNull();
  });
});

describe('the capabilities a session is offered', () => {
  it('are tools only, plus what the connected backends declare', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
    await using session = await connectClient(gw.mcpUrl);
    // The toy server declares tools and logging.
    expect(session.client.getServerCapabilities()).toEqual({ tools: { listChanged: true }, logging: {} });
  });

  it('add prompts, resources (without subscriptions) and completions when a backend declares them', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY), meta: nodeBackend(META) });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);
    await using session = await connectClient(gw.mcpUrl);
    expect(session.client.getServerCapabilities()).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
      completions: {},
      logging: {},
    });
  });

  it('answers a method of a capability not offered with -32601', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
    await using session = await connectClient(gw.mcpUrl);
    await expect(session.client.listPrompts()).rejects.toMatchObject({ code: -32601 });
  });

  it('are fixed when the session opens: a backend connecting later does not change them', async () => {
    await using gw = await startGateway({});
    await using before = await connectClient(gw.mcpUrl);
    expect(before.client.getServerCapabilities()).toEqual({ tools: { listChanged: true } });
    await gw.gateway.reconfigure(parseConfig({ mcpServers: { meta: nodeBackend(META) }, gateway: { port: 0 } }));
    await waitFor(() => gw.gateway.backendStatuses()[0]?.state === 'ready', 'meta ready', 30_000);
    expect(before.client.getServerCapabilities()).toEqual({ tools: { listChanged: true } });
    await using after = await connectClient(gw.mcpUrl);
    expect(after.client.getServerCapabilities()).toMatchObject({ prompts: { listChanged: true } });
  });
});
