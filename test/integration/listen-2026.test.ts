import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  text,
  TOY,
  waitFor,
  type ListeningProcess,
  type RunningGateway,
} from '../helpers/gateway.js';

const MODERN = join(ROOT, 'test/fixtures/modern-server.mjs');
const ABOUT = 'modern://web/about';
const LOG_LEVEL = 'io.modelcontextprotocol/logLevel';

/** Long enough for a notification that was going to come to have come (the list_changed window is 250 ms). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

/** What a 2026-07-28 client received, by notification method. */
interface Received {
  client: ModernClient;
  seen: Record<string, Array<Record<string, unknown>>>;
}

async function modernClient(url: URL, token: string): Promise<Received> {
  const client = new ModernClient(
    { name: 'listen-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const seen: Received['seen'] = {};
  for (const method of [
    'notifications/tools/list_changed',
    'notifications/resources/updated',
    'notifications/message',
  ] as const) {
    seen[method] = [];
    client.setNotificationHandler(method, (notification) => {
      seen[method]!.push((notification.params ?? {}) as Record<string, unknown>);
    });
  }
  await client.connect(new ModernTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, seen };
}

/**
 * `subscriptions/listen` and log messages for 2026-07-28 clients, each told only what its grant
 * covers: a client granted every backend (`*`) and one granted only `toy2`.
 */
describe('2026-07-28 listen streams and log messages, per grant', () => {
  let web: ListeningProcess;
  let running: RunningGateway;
  let full: Received;
  let narrow: Received;

  beforeAll(async () => {
    web = await spawnListening([MODERN], { MODERN_HTTP: '1' });
    running = await startGateway({
      web: { type: 'http', url: web.url.href },
      toy: nodeBackend(TOY),
      toy2: nodeBackend(TOY, [], { TOY_NAME: 'toy2' }),
    });
    await waitFor(() => running.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);
    const { token } = await running.gateway.createPersonalToken({
      name: 'toy2 only',
      scopes: ['mcp:toy2:write'],
      ttlSeconds: 600,
    });
    full = await modernClient(running.mcpUrl, running.token);
    narrow = await modernClient(running.mcpUrl, token);
  }, 60_000);

  afterAll(async () => {
    await full?.client.close();
    await narrow?.client.close();
    await running?.[Symbol.asyncDispose]();
    await web?.[Symbol.asyncDispose]();
  });

  it('offers resource subscriptions and logging, as the backends do', () => {
    const capabilities = full.client.getServerCapabilities();
    expect(capabilities?.resources?.subscribe).toBe(true);
    expect(capabilities?.logging).toEqual({});
  });

  it("tells a listen stream of a list change only when its caller's own view changed", async () => {
    const fullStream = await full.client.listen({ toolsListChanged: true });
    const narrowStream = await narrow.client.listen({ toolsListChanged: true });
    try {
      full.seen['notifications/tools/list_changed'] = [];
      narrow.seen['notifications/tools/list_changed'] = [];

      // toy is outside the narrow grant: its new tool is none of that client's business.
      await full.client.callTool({ name: 'toy__add_tool', arguments: {} });
      await waitFor(() => full.seen['notifications/tools/list_changed']!.length > 0, 'list_changed for toy');
      await settle();
      expect(narrow.seen['notifications/tools/list_changed']).toEqual([]);

      // toy2 is inside it.
      await narrow.client.callTool({ name: 'toy2__add_tool', arguments: {} });
      await waitFor(() => narrow.seen['notifications/tools/list_changed']!.length > 0, 'list_changed for toy2');
      const { tools } = await narrow.client.listTools();
      expect(tools.map((t) => t.name)).toContain('toy2__added_1');
      expect(tools.map((t) => t.name)).not.toContain('toy__added_1');
    } finally {
      await fullStream.close();
      await narrowStream.close();
    }
  });

  it('subscribes a granted resource at its backend for the stream, delivers its updates, and unsubscribes on close', async () => {
    const listeners = async () => Number(text(await full.client.callTool({ name: 'web__listeners', arguments: {} })));
    const before = await listeners();
    const stream = await full.client.listen({ resourceSubscriptions: [ABOUT, 'modern://web/nothing-here'] });
    // Acknowledged: the resource served, not the URI nobody serves.
    expect(stream.honoredFilter).toEqual({ resourceSubscriptions: [ABOUT] });
    expect(await listeners()).toBe(before + 1);

    full.seen['notifications/resources/updated'] = [];
    await full.client.callTool({ name: 'web__touch', arguments: {} });
    await waitFor(() => full.seen['notifications/resources/updated']!.length > 0, 'resources/updated');
    expect(full.seen['notifications/resources/updated']![0]).toMatchObject({ uri: ABOUT });

    await stream.close();
    await waitFor(async () => (await listeners()) === before, 'backend subscription closed');
  });

  it("keeps a 2025 session's subscription to the same resource when the listen stream closes", async () => {
    await using legacy = await connectClient(running.mcpUrl);
    const updated: string[] = [];
    legacy.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    await legacy.client.subscribeResource({ uri: ABOUT });
    const stream = await full.client.listen({ resourceSubscriptions: [ABOUT] });
    await stream.close();
    // The stream's end is seen by the gateway a moment after close(); the session's subscription stays.
    await settle();
    await full.client.callTool({ name: 'web__touch', arguments: {} });
    await waitFor(() => updated.includes(ABOUT), 'resources/updated for the 2025 session');
    await legacy.client.unsubscribeResource({ uri: ABOUT });
  });

  it('does not subscribe a resource outside the grant, nor tell that client of its updates', async () => {
    const narrowStream = await narrow.client.listen({ toolsListChanged: true, resourceSubscriptions: [ABOUT] });
    const fullStream = await full.client.listen({ resourceSubscriptions: [ABOUT] });
    try {
      expect(narrowStream.honoredFilter).toEqual({ toolsListChanged: true });
      full.seen['notifications/resources/updated'] = [];
      narrow.seen['notifications/resources/updated'] = [];
      await full.client.callTool({ name: 'web__touch', arguments: {} });
      await waitFor(() => full.seen['notifications/resources/updated']!.length > 0, 'resources/updated for full');
      await settle();
      expect(narrow.seen['notifications/resources/updated']).toEqual([]);
    } finally {
      await narrowStream.close();
      await fullStream.close();
    }
  });

  it("sends a backend's log message on the call's stream when the request asks, at the level asked", async () => {
    const call = (level?: string) =>
      full.client.callTool({
        name: 'toy__log',
        arguments: { message: `at ${level ?? 'no level'}` },
        ...(level !== undefined && { _meta: { [LOG_LEVEL]: level } }),
      });
    full.seen['notifications/message'] = [];
    // The toy server logs at warning.
    expect(text(await call('info'))).toBe('logged');
    expect(full.seen['notifications/message']).toEqual([
      expect.objectContaining({ level: 'warning', logger: 'toy/toy', data: 'at info' }),
    ]);

    await call('error');
    await call();
    await settle();
    expect(full.seen['notifications/message']!.map((m) => m.data)).toEqual(['at info']);
  });

  it('asks a 2026-07-28 backend for log messages at the level the client asked, and relays them', async () => {
    full.seen['notifications/message'] = [];
    const call = (level: string) =>
      full.client.callTool({
        name: 'web__log',
        arguments: { message: `web at ${level}` },
        _meta: { [LOG_LEVEL]: level },
      });
    await call('debug');
    await call('error');
    expect(full.seen['notifications/message']).toEqual([
      expect.objectContaining({ level: 'warning', logger: 'web/modern', data: 'web at debug' }),
    ]);
  });

  it('sends a client only the log messages of the backend its call reaches', async () => {
    narrow.seen['notifications/message'] = [];
    full.seen['notifications/message'] = [];
    await Promise.all([
      narrow.client.callTool({
        name: 'toy2__log',
        arguments: { message: 'from toy2' },
        _meta: { [LOG_LEVEL]: 'debug' },
      }),
      full.client.callTool({ name: 'toy__log', arguments: { message: 'from toy' }, _meta: { [LOG_LEVEL]: 'debug' } }),
    ]);
    expect(narrow.seen['notifications/message']!.map((m) => m.data)).toEqual(['from toy2']);
    expect(full.seen['notifications/message']!.map((m) => m.data)).toEqual(['from toy']);
  });
});

describe('2026-07-28 listen streams are capped per client', () => {
  it('refuses a listen past maxSessionsPerClient, and takes one again once a stream closed', async () => {
    await using running = await startGateway({ toy: nodeBackend(TOY) }, { maxSessionsPerClient: 2 });
    const { client } = await modernClient(running.mcpUrl, running.token);
    try {
      const first = await client.listen({ toolsListChanged: true });
      await client.listen({ toolsListChanged: true });
      await expect(client.listen({ toolsListChanged: true })).rejects.toThrow(/Subscription limit reached/);
      await first.close();
      // The gateway sees the stream end when its connection closes, a moment after close().
      await waitFor(
        () => client.listen({ toolsListChanged: true }).then((stream) => stream.honoredFilter.toolsListChanged),
        'a listen taken again',
      );
    } finally {
      await client.close();
    }
  });
});
