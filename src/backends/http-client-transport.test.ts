import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, NodeStreamableHttpClientTransport } from './http-client-transport.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1:0 whose answers the test writes by hand, byte for byte. */
async function serve(handler: Handler) {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  return {
    url,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function transportTo(url: URL, reconnectBaseMs?: number) {
  const transport = new NodeStreamableHttpClientTransport(url, reconnectBaseMs ? { reconnectBaseMs } : {});
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => received.push(message);
  return {
    transport,
    received,
    async [Symbol.asyncDispose]() {
      await transport.close();
    },
  };
}

const request: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const answer = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, result: { tools: [] } });

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('NodeStreamableHttpClientTransport reading SSE answers', () => {
  it('delivers messages split across writes, with a CRLF split in two and data over several lines', async () => {
    await using server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One event in pieces; the JSON is spread over two data lines, which join with "\n".
      res.write('event: message\r\ndata: {"jsonrpc":"2.0",');
      setTimeout(() => res.write('\r'), 10);
      setTimeout(() => res.write('\ndata: "id":1,"result":{}}\r'), 20);
      setTimeout(() => res.end('\n\r\n'), 30);
    });
    await using client = transportTo(server.url);
    await client.transport.send(request);
    await until(() => client.received.length === 1, 'the answer');
    expect(client.received).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });

  it('skips comments, events of other types and events without data', async () => {
    await using server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        [
          ': keep-alive',
          '',
          'event: ping',
          '',
          'event: other',
          `data: ${answer(9)}`,
          '',
          `data: ${answer(1)}`,
          '',
          '',
        ].join('\n'),
      );
    });
    await using client = transportTo(server.url);
    await client.transport.send(request);
    await until(() => client.received.length > 0, 'the answer');
    // The default event type is `message`, MCP's; `other` is skipped.
    expect(client.received).toEqual([JSON.parse(answer(1))]);
  });
});

describe('NodeStreamableHttpClientTransport errors', () => {
  it('carries the HTTP status and the JSON-RPC error of a refusal, and whether a session id was sent', async () => {
    await using server = await serve((req, res) => {
      if (req.headers['mcp-session-id'] === undefined) {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'abc' });
        res.end(answer(1));
        return;
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: whatever' } }));
    });
    await using client = transportTo(server.url);
    await client.transport.send(request);
    const error = await client.transport.send(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 400, rpcError: { code: -32000 }, sessionId: 'abc' });
  });

  it('leaves the JSON-RPC error out when the body is not one', async () => {
    await using server = await serve((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('no');
    });
    await using client = transportTo(server.url);
    const error = (await client.transport.send(request).catch((e: unknown) => e)) as HttpStatusError;
    expect(error.status).toBe(401);
    expect(error.rpcError).toBeUndefined();
    expect(error.sessionId).toBeUndefined();
  });
});

describe('NodeStreamableHttpClientTransport GET stream', () => {
  it('re-opens the stream after the server’s retry delay, sending the last event id', async () => {
    const gets: Array<string | undefined> = [];
    await using server = await serve((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(202).end();
        return;
      }
      gets.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The stream ends after one event: the client comes back after `retry` ms, not its own base delay.
      const notice = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      res.end(`retry: 20\nid: ev-${gets.length}\ndata: ${notice}\n\n`);
    });
    // A base delay far beyond the test's patience: only the server's retry can bring the stream back.
    await using client = transportTo(server.url, 600_000);
    await client.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await until(() => gets.length >= 2, 'the stream re-opened');
    expect(gets.slice(0, 2)).toEqual([undefined, 'ev-1']);
    // Each opening delivered its notification.
    const notices = () => client.received.filter((m) => 'method' in m && m.method.endsWith('list_changed')).length;
    await until(() => notices() >= 2, 'both notifications');
  });
});

describe('NodeStreamableHttpClientTransport resuming a POST stream', () => {
  /** A session whose calls answer on a stream that ends after its priming event (retry 20 ms). */
  async function closingServer(onGet: (lastEventId: string | undefined, res: ServerResponse) => void) {
    const gets: Array<string | undefined> = [];
    const server = await serve((req, res) => {
      if (req.method === 'GET') {
        const id = req.headers['last-event-id'] as string | undefined;
        gets.push(id);
        onGet(id, res);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'S' });
      res.end('id: e1\nretry: 20\ndata: \n\n');
    });
    return { server, gets };
  }

  it('GETs with the last event id after retry, and takes the answer from the resumed stream', async () => {
    const { server, gets } = await closingServer((_id, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Kept open after the answer, as the SDK server does: the client closes it.
      res.write(`id: e2\ndata: ${answer(1)}\n\n`);
    });
    await using _server = server;
    await using client = transportTo(server.url, 600_000);
    client.transport.sessionId = 'S';
    await client.transport.send(request);
    await until(() => client.received.length === 1, 'the answer');
    expect(client.received).toEqual([JSON.parse(answer(1))]);
    expect(gets).toEqual(['e1']);
  });

  it('answers the request with an error when the server refuses the resumption', async () => {
    const { server, gets } = await closingServer((_id, res) => res.writeHead(405).end());
    await using _server = server;
    await using client = transportTo(server.url, 600_000);
    client.transport.sessionId = 'S';
    await client.transport.send(request);
    await until(() => client.received.length === 1, 'the error');
    expect(client.received[0]).toMatchObject({
      id: 1,
      error: { code: -32000, message: expect.stringContaining('HTTP 405') },
    });
    expect(gets).toEqual(['e1']);
  });

  it('stops resuming a request once it is cancelled', async () => {
    const { server, gets } = await closingServer(() => {});
    await using _server = server;
    await using client = transportTo(server.url, 600_000);
    client.transport.sessionId = 'S';
    await client.transport.send(request);
    const cancel: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };
    await client.transport.send(cancel).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gets).toEqual([]);
    expect(client.received).toEqual([]);
  });
});

describe('NodeStreamableHttpClientTransport in the 2026-07-28 era', () => {
  const modern = (method: string, params: Record<string, unknown> = {}): JSONRPCMessage => ({
    jsonrpc: '2.0',
    id: 7,
    method,
    params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
  });

  /** Records each POST's standard headers and answers it. */
  async function recording() {
    const seen: Array<Record<string, string | undefined>> = [];
    const server = await serve((req, res) => {
      seen.push({
        version: req.headers['mcp-protocol-version'] as string | undefined,
        method: req.headers['mcp-method'] as string | undefined,
        name: req.headers['mcp-name'] as string | undefined,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer(7));
    });
    return { server, seen };
  }

  it('sends MCP-Protocol-Version, Mcp-Method and Mcp-Name from a request that carries its version in _meta', async () => {
    const { server, seen } = await recording();
    await using _server = server;
    await using client = transportTo(server.url);
    await client.transport.send(modern('tools/call', { name: 'echo' }));
    await client.transport.send(modern('resources/read', { uri: 'file:///a b' }));
    await client.transport.send(modern('tools/list'));
    expect(seen).toEqual([
      { version: '2026-07-28', method: 'tools/call', name: 'echo' },
      { version: '2026-07-28', method: 'resources/read', name: 'file:///a b' },
      { version: '2026-07-28', method: 'tools/list', name: undefined },
    ]);
  });

  it('encodes an Mcp-Name that is not plain ASCII in base64, and adds none of it to 2025 traffic', async () => {
    const { server, seen } = await recording();
    await using _server = server;
    await using client = transportTo(server.url);
    await client.transport.send(modern('tools/call', { name: 'größe' }));
    await client.transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo' } });
    expect(seen[0]!.name).toBe(`=?base64?${Buffer.from('größe').toString('base64')}?=`);
    expect(seen[1]).toEqual({ version: undefined, method: undefined, name: undefined });
  });

  it('takes a 400 answering a modern request with its JSON-RPC error as that request’s answer', async () => {
    const error = { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Unknown tool' } };
    await using server = await serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(error));
    });
    await using client = transportTo(server.url);
    await client.transport.send(modern('tools/call', { name: 'nope' }));
    expect(client.received).toEqual([error]);
  });
});
