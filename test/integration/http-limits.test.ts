import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelProvider, TunnelProviderEvents, TunnelProviderStatus } from '../../src/tunnel/provider.js';
import { nodeBackend, ROOT, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, rawMcp } from '../helpers/raw-mcp.js';

// Every listener bounds how long a client may take to send a request and how many connections it
// may hold (issue 9, finding 11), while answers that take long (a slow tool call, an event stream)
// are not cut: Node's requestTimeout bounds receiving the request only.

const SLOW = join(ROOT, 'test/fixtures/slow-server.mjs');
const HEADERS_MS = 1_000;
const RECEIVE_MS = 1_500;
/** Node checks for expired requests every second (src/shared/http-server.ts); then the 408 goes out. */
const CHECK_MS = 1_000;

/** A raw TCP client: what it received and when the server closed it. */
interface RawClient {
  socket: Socket;
  received: () => string;
  /** Milliseconds from connecting to the close, once closed. */
  closedAfter: () => number | undefined;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let data = '';
    let closed: number | undefined;
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, received: () => data, closedAfter: () => closed }),
    );
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => (closed = Date.now() - started));
    socket.once('error', reject);
  });
}

/** Writes request headers one line at a time, slower than any honest client: a slowloris. */
function dribble(client: RawClient, lines: string[], everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (client.socket.destroyed) return clearInterval(timer);
    client.socket.write(lines[i++ % lines.length]!);
  }, everyMs);
  client.socket.on('close', () => clearInterval(timer));
}

describe('request timeouts on the local listener', () => {
  let gw: RunningGateway;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-limits-'));
    gw = await startGateway(
      { slow: nodeBackend(SLOW, [], { SLOW_MARKS: join(dir, 'marks') }) },
      { headersTimeoutMs: HEADERS_MS, receiveTimeoutMs: RECEIVE_MS },
    );
    await waitFor(() => gw.gateway.backendStatuses()[0]?.state === 'ready', 'slow backend ready');
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a client that dribbles its headers, with 408, within headersTimeoutMs', async () => {
    const client = await rawClient(gw.address.port);
    client.socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gw.address.port}\r\n`);
    dribble(client, ['X-Padding: a\r\n'], 100);
    const after = await waitFor(client.closedAfter, 'the slowloris connection to be closed', 10_000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(after).toBeGreaterThanOrEqual(HEADERS_MS - 100);
    expect(after).toBeLessThan(HEADERS_MS + CHECK_MS + 2_000);
  });

  it('cuts a client that sends nothing at all within headersTimeoutMs', async () => {
    const client = await rawClient(gw.address.port);
    const after = await waitFor(client.closedAfter, 'the silent connection to be closed', 10_000);
    expect(after).toBeLessThan(HEADERS_MS + CHECK_MS + 2_000);
  });

  it('cuts a client that dribbles its body, with 408, within receiveTimeoutMs', async () => {
    const client = await rawClient(gw.address.port);
    client.socket.write(
      `POST /register HTTP/1.1\r\nHost: 127.0.0.1:${gw.address.port}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{',
    );
    dribble(client, [' '], 100);
    const after = await waitFor(client.closedAfter, 'the slow-body connection to be closed', 10_000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(after).toBeGreaterThanOrEqual(RECEIVE_MS - 100);
    expect(after).toBeLessThan(RECEIVE_MS + CHECK_MS + 2_000);
  });

  it('lets a tool call and an open event stream run far past both limits', async () => {
    const sessionId = await openSession(gw.mcpUrl, gw.token);
    // The session's event stream (GET /mcp): its request is complete, its response never ends.
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(gw.mcpUrl, {
        method: 'GET',
        headers: {
          authorization: `Bearer ${gw.token}`,
          accept: 'text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
        },
      });
      req.on('response', resolve).on('error', reject).end();
    });
    expect(stream.statusCode).toBe(200);
    let streamClosed = false;
    stream.on('close', () => (streamClosed = true));
    stream.resume();
    const wait = RECEIVE_MS + 2 * CHECK_MS + 500;
    const call = await rawMcp(gw.mcpUrl, {
      token: gw.token,
      sessionId,
      timeoutMs: wait + 10_000,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow__sleep', arguments: { ms: wait } } },
    });
    expect(call.status).toBe(200);
    expect(call.ms).toBeGreaterThanOrEqual(wait);
    expect(call.messages.at(-1)).toMatchObject({ id: 1, result: expect.any(Object) });
    // The stream opened before the call is still open after it.
    expect(streamClosed).toBe(false);
    stream.destroy();
  });
});

describe('the connection cap', () => {
  const CAP = 3;
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({}, { maxConnections: CAP });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  /** A keep-alive connection that has been served once, so the server surely counts it. */
  async function heldConnection(): Promise<RawClient> {
    const client = await rawClient(gw.address.port);
    client.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gw.address.port}\r\n\r\n`);
    await waitFor(() => client.received().includes('"status":"ok"'), 'healthz answered');
    return client;
  }

  it('closes a connection beyond maxConnections unanswered, and serves again once one ends', async () => {
    const held = [];
    for (let i = 0; i < CAP; i++) held.push(await heldConnection());
    const extra = await rawClient(gw.address.port);
    extra.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gw.address.port}\r\n\r\n`);
    await waitFor(() => extra.closedAfter() !== undefined, 'the connection over the cap to be closed');
    expect(extra.received()).toBe('');
    held.pop()!.socket.destroy();
    // The server counts the freed slot once it sees the close: retry until it has.
    const served = await waitFor(async () => {
      const next = await rawClient(gw.address.port);
      next.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gw.address.port}\r\n\r\n`);
      await waitFor(() => next.received() || next.closedAfter() !== undefined, 'an answer or a close');
      if (next.received()) return next;
      return undefined;
    }, 'a connection to be served again');
    expect(served.received()).toMatch(/^HTTP\/1\.1 200 /);
    served.socket.destroy();
    for (const client of held) client.socket.destroy();
  });
});

/** A tunnel provider without a tunnel: it reports a public URL and remembers the local target. */
function fakeProvider(): TunnelProvider & { target?: string } {
  const events = new EventEmitter<TunnelProviderEvents>();
  let status: TunnelProviderStatus = { state: 'stopped', since: Date.now(), restartCount: 0 };
  const provider: TunnelProvider & { target?: string } = {
    name: 'fake',
    events,
    status: () => status,
    async start(target) {
      provider.target = target;
      status = { state: 'running', since: Date.now(), restartCount: 0, publicUrl: 'https://limits.example' };
      events.emit('state', status);
      return status.publicUrl!;
    },
    async stop() {
      status = { state: 'stopped', since: Date.now(), restartCount: 0 };
      events.emit('state', status);
    },
  };
  return provider;
}

describe('limits on the tunnel listener', () => {
  it('holds the connection cap and cuts a slowloris there too', async () => {
    const provider = fakeProvider();
    await using gw = await startGateway(
      {},
      { headersTimeoutMs: HEADERS_MS, receiveTimeoutMs: RECEIVE_MS, maxConnections: 1 },
      { tunnelProvider: provider },
    );
    expect((await gw.gateway.tunnel.start()).state).toBe('running');
    const port = Number(new URL(provider.target!).port);
    const discovery = 'GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: limits.example\r\n\r\n';
    const held = await rawClient(port);
    held.socket.write(discovery);
    await waitFor(() => held.received().includes('"issuer":"https://limits.example"'), 'discovery answered');
    // The one connection allowed is taken: another is closed at once, unanswered.
    const extra = await rawClient(port);
    extra.socket.write(discovery);
    await waitFor(() => extra.closedAfter() !== undefined, 'the connection over the cap to be closed');
    expect(extra.received()).toBe('');
    held.socket.destroy();
    // Once the server has counted the freed slot, a slowloris gets in, and is cut with 408.
    const slow = await waitFor(async () => {
      const client = await rawClient(port);
      client.socket.write('POST /mcp HTTP/1.1\r\nHost: limits.example\r\n');
      dribble(client, ['X-Padding: a\r\n'], 100);
      await waitFor(client.closedAfter, 'the connection to be closed', 10_000);
      return client.received() ? client : undefined;
    }, 'a slowloris to be let in and cut');
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.closedAfter()).toBeLessThan(HEADERS_MS + CHECK_MS + 2_000);
  });
});
