import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import {
  ROOT,
  TOY,
  connectClient,
  nodeBackend,
  spawnListening,
  startGateway,
  text,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';
import { openSession, openSse, rawMcp } from '../helpers/raw-mcp.js';

const SLOW = join(ROOT, 'test/fixtures/slow-server.mjs');

/**
 * A TCP proxy in front of the gateway that cuts, once, the connection whose request contains
 * `cutWhenRequest` after its response carried `cutAfterResponse`: the network failure of MCP
 * 2025-11-25 basic/transports, "Resumability and Redelivery". It records the requests' head lines
 * and Last-Event-ID headers, so a test sees how the client came back.
 */
async function cuttingProxy(target: URL, cutWhenRequest: string, cutAfterResponse: string) {
  const requests: string[] = [];
  let cut = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let marked = false;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (const head of text.match(/^(GET|POST|DELETE) .*$/gm) ?? []) requests.push(head);
      for (const id of text.match(/^last-event-id: .*$/gim) ?? []) requests.push(id.toLowerCase());
      if (!cut && text.includes(cutWhenRequest)) marked = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (marked && !cut && chunk.toString('utf8').includes(cutAfterResponse)) {
        cut = true;
        client.destroy();
        upstream.destroy();
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}${target.pathname}`),
    requests,
    wasCut: () => cut,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('resuming a dropped SSE stream', () => {
  let gw: RunningGateway;

  beforeAll(async () => {
    gw = await startGateway({ slow: nodeBackend(SLOW) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'slow backend ready', 30_000);
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  describe('a client of the gateway', () => {
    it('gets the answer of a call whose response stream was cut mid-way (SDK client, GET + Last-Event-ID)', async () => {
      await using proxy = await cuttingProxy(gw.mcpUrl, 'slow__tick', 'notifications/progress');
      await using session = await connectClient(proxy.url, gw.token);
      const seen: Progress[] = [];
      const result = await session.client.callTool(
        { name: 'slow__tick', arguments: { tag: 'cut', ms: 1_800, every: 100 } },
        undefined,
        { onprogress: (p) => seen.push(p), timeout: 10_000 },
      );
      expect(proxy.wasCut()).toBe(true);
      expect(text(result)).toBe('tick cut done');
      // The client came back with a GET naming the last event it had of that POST's stream.
      expect(proxy.requests).toContainEqual(expect.stringMatching(/^last-event-id: p\d+$/));
      // Progress sent while it was away was replayed, in order and once each.
      const progress = seen.map((p) => p.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(new Set(progress).size).toBe(progress.length);
      expect(progress.length).toBeGreaterThan(8);
    });

    it('replays a finished stream after the id the client had, then answers 405 once nothing is left', async () => {
      const session = await openSession(gw.mcpUrl, gw.token, '2025-11-25');
      const body = {
        jsonrpc: '2.0',
        id: 'r1',
        method: 'tools/call',
        params: { name: 'slow__tick', arguments: { tag: 'r1', ms: 400, every: 100 }, _meta: { progressToken: 'r1' } },
      };
      const first = await openSse(gw.mcpUrl, { token: gw.token, sessionId: session, body });
      await waitFor(() => first.events().length >= 2, 'priming and first progress');
      const had = first.events()[1]!;
      first.drop();
      await first.ended;
      // The call finishes while the client is away.
      await new Promise((resolve) => setTimeout(resolve, 800));
      const resume = (id: string) =>
        rawMcp(gw.mcpUrl, {
          token: gw.token,
          sessionId: session,
          method: 'GET',
          accept: 'text/event-stream',
          headers: { 'last-event-id': id },
        });
      const replayed = await resume(had.id!);
      expect(replayed.status).toBe(200);
      const methods = replayed.messages.map((m) => (m.method as string | undefined) ?? 'response');
      expect(methods.at(-1)).toBe('response');
      expect(methods.slice(0, -1).every((m) => m === 'notifications/progress')).toBe(true);
      expect(replayed.messages.at(-1)).toMatchObject({ id: 'r1', result: { content: [{ text: 'tick r1 done' }] } });
      const lastId = [...replayed.body.matchAll(/^id: (p\d+)$/gm)].at(-1)![1]!;
      expect((await resume(lastId)).status).toBe(405);
    });
  });

  it("forgets a finished stream's events 30 s after its answer", async () => {
    let offset = 0;
    await using clocked = await startGateway(
      { slow: nodeBackend(SLOW) },
      {},
      { clock: { now: () => Date.now() + offset } },
    );
    await waitFor(() => clocked.gateway.backendStatuses()[0]!.state === 'ready', 'slow backend ready', 30_000);
    const session = await openSession(clocked.mcpUrl, clocked.token, '2025-11-25');
    const body = {
      jsonrpc: '2.0',
      id: 'f1',
      method: 'tools/call',
      params: { name: 'slow__sleep', arguments: { tag: 'f1', ms: 1 }, _meta: { progressToken: 'f1' } },
    };
    await using call = await openSse(clocked.mcpUrl, { token: clocked.token, sessionId: session, body });
    await call.ended;
    const resume = () =>
      rawMcp(clocked.mcpUrl, {
        token: clocked.token,
        sessionId: session,
        method: 'GET',
        accept: 'text/event-stream',
        headers: { 'last-event-id': call.events()[0]!.id! },
      });
    offset = 29_000;
    expect((await resume()).status).toBe(200);
    offset = 31_000;
    expect((await resume()).status).toBe(405);
  });

  /**
   * The gateway as the client of an SDK 1.x server that closes streams to make its clients poll:
   * it keeps events (an event store) and sends `retry:` on its priming events.
   */
  describe('the gateway as a backend client', () => {
    const POLL_MS = 400;

    it('resumes a call whose stream the backend closed, after the retry delay, with every event', async () => {
      await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_POLL_MS: String(POLL_MS) });
      await using web = await startGateway({ web: { type: 'http', url: toy.url.href } });
      await waitFor(() => web.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
      await using session = await connectClient(web.mcpUrl);
      const seen: Progress[] = [];
      const result = await session.client.callTool({ name: 'web__poll', arguments: { steps: 5 } }, undefined, {
        onprogress: (p) => seen.push(p),
        timeout: 10_000,
      });
      expect(text(result)).toBe('polled');
      // Progress sent while the stream was closed came with the resumed stream.
      expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4, 5]);
      const resumes = JSON.parse(text(await session.client.callTool({ name: 'web__resumes', arguments: {} })));
      expect(resumes).toHaveLength(1);
      expect(resumes[0]).toBeGreaterThanOrEqual(POLL_MS - 20);
    });

    it('resumes the GET stream the backend closed, after the retry delay, and gets what it missed', async () => {
      await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_POLL_MS: String(POLL_MS) });
      await using web = await startGateway({ web: { type: 'http', url: toy.url.href } });
      await waitFor(() => web.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
      await using session = await connectClient(web.mcpUrl);
      const added = text(await session.client.callTool({ name: 'web__poll_notice', arguments: {} }));
      // The list changed again while the gateway's GET stream was closed: only a replay tells it.
      await waitFor(
        async () => (await session.client.listTools()).tools.some((t) => t.name === `web__${added}`),
        'the tool added while the stream was closed',
        5_000,
      );
      const resumes = JSON.parse(text(await session.client.callTool({ name: 'web__resumes', arguments: {} })));
      expect(resumes.length).toBeGreaterThanOrEqual(1);
      expect(resumes[0]).toBeGreaterThanOrEqual(POLL_MS - 20);
    });
  });
});
