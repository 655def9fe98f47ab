import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  EVERYTHING,
  LOOPBACK_PRELOAD,
  memoryBackend,
  nodeBackend,
  spawnListening,
  startGateway,
  tempDir,
  text,
  ROOT,
  TOY,
  waitFor,
  type ConnectedClient,
  type ListeningProcess,
  type RunningGateway,
  type TempDir,
} from '../helpers/gateway.js';

const BURST = join(ROOT, 'test/fixtures/burst-server.mjs');

// Real servers from npm: server-everything over stdio and over Streamable HTTP, server-memory over
// stdio, plus our toy server for list_changed, progress and logging.
describe('federation of real MCP servers', () => {
  let everythingHttp: ListeningProcess;
  let gw: RunningGateway;
  let session: ConnectedClient;
  let memoryData: TempDir;

  beforeAll(async () => {
    memoryData = await tempDir('cortex-memory-');
    everythingHttp = await spawnListening(['--import', LOOPBACK_PRELOAD, EVERYTHING, 'streamableHttp']);
    gw = await startGateway({
      everything: nodeBackend(EVERYTHING, ['stdio']),
      remote: { type: 'http', url: everythingHttp.url.href },
      memory: memoryBackend(join(memoryData.path, 'memory.jsonl')),
      toy: nodeBackend(TOY),
    });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'all backends ready', 30_000);
    session = await connectClient(gw.mcpUrl);
  });

  afterAll(async () => {
    await session?.[Symbol.asyncDispose]();
    await gw?.[Symbol.asyncDispose]();
    await everythingHttp?.[Symbol.asyncDispose]();
    await memoryData?.[Symbol.asyncDispose]();
  });

  it('lists every backend’s tools under <backend>__<tool>, plus the builtins', async () => {
    const { tools } = await session.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('whoami');
    expect(names).toContain('find_tools');
    expect(names).toContain('everything__echo');
    expect(names).toContain('remote__echo');
    expect(names).toContain('memory__create_entities');
    expect(names).toContain('toy__echo');
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('routes a call to the stdio backend and returns its result', async () => {
    const result = await session.client.callTool({ name: 'everything__echo', arguments: { message: 'hi stdio' } });
    expect(text(result)).toContain('hi stdio');
  });

  it('routes a call to the Streamable HTTP backend', async () => {
    const result = await session.client.callTool({ name: 'remote__echo', arguments: { message: 'hi http' } });
    expect(text(result)).toContain('hi http');
  });

  it('keeps state in a backend across calls (server-memory)', async () => {
    await session.client.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }] },
    });
    const result = await session.client.callTool({ name: 'memory__read_graph', arguments: {} });
    expect(text(result)).toContain('Ada');
  });

  it('lists prompts namespaced and gets one from its backend', async () => {
    const { prompts } = await session.client.listPrompts();
    const names = prompts.map((p) => p.name);
    expect(names).toContain('everything__simple-prompt');
    expect(names).toContain('remote__simple-prompt');
    const prompt = await session.client.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
  });

  it('lists resources with their own URIs and reads one through its owner', async () => {
    const { resources } = await session.client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const first = resources[0]!;
    const read = await session.client.readResource({ uri: first.uri });
    expect(read.contents[0]?.uri).toBe(first.uri);
  });

  it('routes a read by resource template to the backend that announced it', async () => {
    const { resourceTemplates } = await session.client.listResourceTemplates();
    expect(resourceTemplates.length).toBeGreaterThan(0);
    const { resources } = await session.client.listResources();
    // server-everything announces some of its templated resources; reading any listed one must work.
    const read = await session.client.readResource({ uri: resources[resources.length - 1]!.uri });
    expect(read.contents.length).toBeGreaterThan(0);
  });

  it('relays resource update notifications to the session that subscribed', async () => {
    const updated: string[] = [];
    session.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    const { resources } = await session.client.listResources();
    const uri = resources.find((r) => r.uri.startsWith('demo://'))?.uri ?? resources[0]!.uri;
    await session.client.subscribeResource({ uri });
    // server-everything sends updates for subscribed URIs once this tool turns them on.
    await session.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    await waitFor(() => updated.includes(uri), `resources/updated for ${uri}`, 12_000);
    await session.client.unsubscribeResource({ uri });
  });

  it('refuses an unknown tool with invalid params, naming it', async () => {
    await expect(session.client.callTool({ name: 'nobody__nothing', arguments: {} })).rejects.toThrow(
      /Unknown tool: nobody__nothing/,
    );
  });

  it('reports identity and every backend’s health in whoami', async () => {
    const result = await session.client.callTool({ name: 'whoami', arguments: {} });
    const report = result.structuredContent as {
      subject: string;
      backends: Array<{ name: string; state: string; toolCount: number }>;
    };
    expect(report.subject).toBe('owner');
    expect(report.backends.map((b) => b.name).sort()).toEqual(['everything', 'memory', 'remote', 'toy']);
    for (const backend of report.backends) {
      expect(backend.state).toBe('ready');
      expect(backend.toolCount).toBeGreaterThan(0);
    }
  });

  it('finds tools by words and returns their full schemas', async () => {
    const result = await session.client.callTool({ name: 'find_tools', arguments: { query: 'entities', limit: 5 } });
    const found = result.structuredContent as { tools: Array<{ name: string; inputSchema: unknown; backend: string }> };
    expect(found.tools.length).toBeGreaterThan(0);
    expect(found.tools[0]!.name.startsWith('memory__')).toBe(true);
    expect(found.tools[0]!.inputSchema).toMatchObject({ type: 'object' });
  });

  it('passes progress notifications through under the client’s own token', async () => {
    const seen: Progress[] = [];
    const result = await session.client.callTool({ name: 'toy__count', arguments: { steps: 3 } }, undefined, {
      onprogress: (progress) => seen.push(progress),
    });
    expect(text(result)).toBe('counted to 3');
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
  });

  it('keeps progress that arrives in the same read as the result', async () => {
    await using burstGw = await startGateway({ burst: nodeBackend(BURST) });
    await waitFor(() => burstGw.gateway.backendStatuses()[0]!.state === 'ready', 'burst ready');
    await using burstSession = await connectClient(burstGw.mcpUrl);
    for (let round = 0; round < 5; round++) {
      const seen: number[] = [];
      const result = await burstSession.client.callTool({ name: 'burst__burst', arguments: {} }, undefined, {
        onprogress: (p) => seen.push(p.progress),
      });
      expect(text(result)).toBe('done');
      expect(seen).toEqual([1, 2, 3]);
    }
  });

  it('cancels a backend call when the client aborts it, and stays usable', async () => {
    const before = Number(text(await session.client.callTool({ name: 'toy__cancellations', arguments: {} })));
    const controller = new AbortController();
    const pending = session.client.callTool({ name: 'toy__hang', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('user cancelled'), 100);
    await expect(pending).rejects.toThrow();
    // The client's notifications/cancelled reached the backend, which stopped the work.
    await waitFor(
      async () =>
        Number(text(await session.client.callTool({ name: 'toy__cancellations', arguments: {} }))) === before + 1,
      'cancellation at the backend',
    );
    const result = await session.client.callTool({ name: 'toy__echo', arguments: { text: 'still here' } });
    expect(text(result)).toBe('still here');
  });

  it('passes logging notifications through, named after the backend', async () => {
    const messages: unknown[] = [];
    session.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      messages.push(n.params);
    });
    await session.client.callTool({ name: 'toy__log', arguments: { message: 'disk almost full' } });
    const message = await waitFor(
      () => messages.find((m) => (m as { data: unknown }).data === 'disk almost full'),
      'log message',
    );
    expect(message).toMatchObject({ level: 'warning', logger: 'toy/toy' });
  });

  it('re-fetches a backend’s tools on list_changed and tells connected clients', async () => {
    let notified = 0;
    session.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified++;
    });
    const added = await session.client.callTool({ name: 'toy__add_tool', arguments: {} });
    const newName = `toy__${text(added)}`;
    await waitFor(() => notified > 0, 'tools/list_changed at the client');
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toContain(newName);
    const result = await session.client.callTool({ name: newName, arguments: {} });
    expect(text(result)).toBe(text(added));
  });
});
