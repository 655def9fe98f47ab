import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  EVERYTHING,
  memoryBackend,
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  tempDir,
  text,
  TOY,
  waitFor,
  type ListeningProcess,
  type RunningGateway,
} from '../helpers/gateway.js';

const MODERN = join(ROOT, 'test/fixtures/modern-server.mjs');
const STRICT = join(ROOT, 'test/fixtures/strict-legacy-server.mjs');

const ready = (running: RunningGateway) =>
  waitFor(() => running.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);

const statusOf = (running: RunningGateway, name: string) =>
  running.gateway.backendStatuses().find((s) => s.name === name)!;

/**
 * Backends that speak only MCP 2026-07-28 (test/fixtures/modern-server.mjs refuses initialize),
 * over stdio and Streamable HTTP, next to 2025 backends, reached through one gateway by a
 * 2025-11-25 client (SDK 1.x, a session) and a 2026-07-28 client (SDK 2.x, stateless).
 */
describe('backends that speak only 2026-07-28', () => {
  let web: ListeningProcess;
  let running: RunningGateway;
  let modern: ModernClient;

  beforeAll(async () => {
    web = await spawnListening([MODERN], { MODERN_HTTP: '1' });
    running = await startGateway({
      pipe: nodeBackend(MODERN),
      web: { type: 'http', url: web.url.href },
      toy: nodeBackend(TOY),
      toyweb: { type: 'http', url: (await toyWeb()).url.href },
    });
    await ready(running);
    modern = new ModernClient(
      { name: 'modern-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await modern.connect(
      new ModernTransport(running.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${running.token}` } } }),
    );
  }, 60_000);

  let toyServer: ListeningProcess | undefined;
  async function toyWeb(): Promise<ListeningProcess> {
    toyServer = await spawnListening([TOY], { TOY_HTTP: '1' });
    return toyServer;
  }

  afterAll(async () => {
    await modern?.close();
    await running?.[Symbol.asyncDispose]();
    await web?.[Symbol.asyncDispose]();
    await toyServer?.[Symbol.asyncDispose]();
  });

  it('records the revision each backend speaks in its status', () => {
    expect(statusOf(running, 'pipe')).toMatchObject({ state: 'ready', protocolVersion: '2026-07-28' });
    expect(statusOf(running, 'web')).toMatchObject({ state: 'ready', protocolVersion: '2026-07-28' });
    // The 2025 backends, found by the same probe: initialize agreed on the SDK 1.x server's newest.
    expect(statusOf(running, 'toy').protocolVersion).toMatch(/^2025-/);
    expect(statusOf(running, 'toyweb').protocolVersion).toMatch(/^2025-/);
  });

  it('lists and calls their tools, prompts and resources for a 2025-11-25 client', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const { tools } = await legacy.client.listTools();
    for (const name of ['pipe__echo', 'web__echo', 'pipe__count', 'web__count']) {
      expect(tools.map((t) => t.name)).toContain(name);
    }
    expect(text(await legacy.client.callTool({ name: 'pipe__echo', arguments: { text: 'over stdio' } }))).toBe(
      'over stdio',
    );
    expect(text(await legacy.client.callTool({ name: 'web__echo', arguments: { text: 'over http' } }))).toBe(
      'over http',
    );
    const prompt = await legacy.client.getPrompt({ name: 'web__greet', arguments: { name: 'Ada' } });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'Hello, Ada' });
    const { resources } = await legacy.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['modern://pipe/about', 'modern://web/about']));
    const read = await legacy.client.readResource({ uri: 'modern://web/about' });
    expect(read.contents[0]).toMatchObject({ text: 'a 2026-07-28-only server' });
  });

  it('lists and calls them for a 2026-07-28 client', async () => {
    const { tools } = await modern.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['pipe__echo', 'web__echo']));
    expect(text(await modern.callTool({ name: 'web__echo', arguments: { text: 'modern to modern' } }))).toBe(
      'modern to modern',
    );
    expect(text(await modern.callTool({ name: 'pipe__echo', arguments: { text: 'stdio' } }))).toBe('stdio');
    const prompt = await modern.getPrompt({ name: 'pipe__greet', arguments: { name: 'Grace' } });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'Hello, Grace' });
    const read = await modern.readResource({ uri: 'modern://pipe/about' });
    expect(read.contents[0]).toMatchObject({ text: 'a 2026-07-28-only server' });
  });

  it('relays progress from both transports to both kinds of client', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    for (const backend of ['pipe', 'web']) {
      const fromLegacy: Progress[] = [];
      const legacyResult = await legacy.client.callTool(
        { name: `${backend}__count`, arguments: { steps: 3 } },
        undefined,
        { onprogress: (p) => fromLegacy.push(p) },
      );
      expect(text(legacyResult)).toBe('counted to 3');
      expect(fromLegacy.map((p) => p.progress)).toEqual([1, 2, 3]);

      const fromModern: number[] = [];
      const modernResult = await modern.callTool(
        { name: `${backend}__count`, arguments: { steps: 3 } },
        {
          onprogress: (p) => fromModern.push(p.progress),
        },
      );
      expect(text(modernResult)).toBe('counted to 3');
      expect(fromModern).toEqual([1, 2, 3]);
    }
  });

  it('asks them for log messages at the level a 2025-11-25 session set, and relays them to it', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const messages: Array<{ level: string; logger?: string; data: unknown }> = [];
    legacy.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    await legacy.client.setLoggingLevel('info');
    for (const backend of ['pipe', 'web']) {
      // The fixture logs at warning, and only when the request names a level.
      await legacy.client.callTool({ name: `${backend}__log`, arguments: { message: `from ${backend}` } });
      const message = await waitFor(() => messages.find((m) => m.data === `from ${backend}`), `${backend} log`);
      expect(message).toMatchObject({ level: 'warning', logger: `${backend}/modern` });
    }
  });

  it('sends the 2026-07-28 standard headers and _meta to an HTTP backend', async () => {
    const report = JSON.parse(text(await modern.callTool({ name: 'web__headers', arguments: {} })));
    expect(report).toEqual({
      method: 'tools/call',
      name: 'headers',
      version: '2026-07-28',
      envelope: '2026-07-28',
      client: 'cortex-gateway',
    });
  });

  it('keeps their catalog in step with list_changed, sent on a subscriptions/listen stream', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    for (const backend of ['pipe', 'web']) {
      const before = statusOf(running, backend).toolCount;
      const name = text(await legacy.client.callTool({ name: `${backend}__add_tool`, arguments: {} }));
      await waitFor(() => statusOf(running, backend).toolCount === before + 1, `${backend} catalog refreshed`);
      const { tools } = await legacy.client.listTools();
      expect(tools.map((t) => t.name)).toContain(`${backend}__${name}`);
    }
  });

  it('passes a cancelled call on to them: the POST closed over HTTP, notifications/cancelled over stdio', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    for (const backend of ['web', 'pipe']) {
      const controller = new AbortController();
      const call = legacy.client.callTool({ name: `${backend}__slow`, arguments: {} }, undefined, {
        signal: controller.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      controller.abort();
      await expect(call).rejects.toThrow();
      await waitFor(async () => {
        const count = text(await legacy.client.callTool({ name: `${backend}__cancellations`, arguments: {} }));
        return count === '1';
      }, `${backend} saw the cancellation`);
    }
  });

  it('relays a resource subscription to an HTTP backend as a subscriptions/listen stream', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const updated: string[] = [];
    legacy.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    await legacy.client.subscribeResource({ uri: 'modern://web/about' });
    await legacy.client.callTool({ name: 'web__touch', arguments: {} });
    await waitFor(() => updated.includes('modern://web/about'), 'resources/updated relayed');
    await legacy.client.unsubscribeResource({ uri: 'modern://web/about' });
  });

  it('checks their health with server/discover (2026-07-28 has no ping)', async () => {
    await waitFor(
      () => ['pipe', 'web'].every((name) => statusOf(running, name).latencyMs !== undefined),
      'modern backends pinged',
    );
    expect(statusOf(running, 'web').state).toBe('ready');
  });

  it('reports the revision in whoami', async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const report = (await legacy.client.callTool({ name: 'whoami', arguments: {} })).structuredContent as {
      backends: Array<{ name: string; protocolVersion?: string }>;
    };
    expect(report.backends.find((b) => b.name === 'web')?.protocolVersion).toBe('2026-07-28');
  });
});

describe('a 2026-07-28 HTTP backend that restarts', () => {
  it('is listened to again for list_changed, with no session to renew', async () => {
    let web = await spawnListening([MODERN], { MODERN_HTTP: '1' });
    const port = String(web.port);
    await using running = await startGateway({ web: { type: 'http', url: web.url.href } });
    await ready(running);
    const base = statusOf(running, 'web').toolCount;
    await web[Symbol.asyncDispose]();
    web = await spawnListening([MODERN], { MODERN_HTTP: '1', MODERN_PORT: port });
    try {
      await using session = await connectClient(running.mcpUrl);
      // Within the re-listen delay the stream is open again; a change after it is seen.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const name = text(await session.client.callTool({ name: 'web__add_tool', arguments: {} }));
      await waitFor(() => statusOf(running, 'web').toolCount === base + 1, `web__${name} listed after the restart`);
      expect(statusOf(running, 'web')).toMatchObject({ state: 'ready', restartCount: 0 });
    } finally {
      await web[Symbol.asyncDispose]();
    }
  });
});

describe('the probe on 2025 stdio servers', () => {
  it('costs them one round trip: server-everything and server-memory start as fast as before', async () => {
    await using dir = await tempDir();
    const started = Date.now();
    await using running = await startGateway({
      everything: nodeBackend(EVERYTHING, ['stdio']),
      memory: memoryBackend(join(dir.path, 'memory.jsonl')),
    });
    await ready(running);
    // Each answers the unknown server/discover at once with -32601; startup is the node process's own.
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const status of running.gateway.backendStatuses()) expect(status.protocolVersion).toMatch(/^2025-/);
  });
});

describe('2025 stdio servers strict about their opening', () => {
  it('starts again a server that exits on the probe, and sends it initialize at once', async () => {
    await using dir = await tempDir();
    const starts = join(dir.path, 'starts');
    await using running = await startGateway({
      strict: nodeBackend(STRICT, [], { STRICT: 'exit', STRICT_STARTS_FILE: starts }),
    });
    await ready(running);
    expect(statusOf(running, 'strict')).toMatchObject({
      restartCount: 0,
      protocolVersion: expect.stringMatching(/^2025-/),
    });
    expect((await readFile(starts, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    await using session = await connectClient(running.mcpUrl);
    expect(text(await session.client.callTool({ name: 'strict__echo', arguments: { text: 'hi' } }))).toBe('hi');
  });

  it('takes a server silent on the probe for a 2025 one after half its start-up budget', async () => {
    const started = Date.now();
    await using running = await startGateway({
      silent: nodeBackend(STRICT, [], { STRICT: 'silent' }, { startupTimeoutMs: 2_000 }),
    });
    await ready(running);
    expect(statusOf(running, 'silent').protocolVersion).toMatch(/^2025-/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });
});
