import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapter } from '../../scripts/conformance-adapter.mjs';

// The loopback adapter of `npm run conformance` (docs/conformance.md) in front of a real HTTP
// server standing in for the gateway's /mcp: it must add the token and map `ref__` names without
// changing anything else, in JSON and in SSE answers whose events arrive split across chunks.

interface Seen {
  headers: IncomingHttpHeaders;
  body: unknown;
}

const seen: Seen[] = [];
let upstream: Server;
let adapter: Server;

/** What the stand-in answers: list results carry gateway names; tools/call answers by SSE in pieces. */
function answer(body: { id?: number; method?: string }, res: ServerResponse): void {
  const listed = { tools: [{ name: 'ref__test_simple_text' }, { name: 'whoami' }], prompts: [{ name: 'ref__p' }] };
  if (body.method === 'tools/call') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
    const event = JSON.stringify({ jsonrpc: '2.0', id: body.id, result: listed });
    res.write(`id: e1\r\nevent: message\r\ndata: ${event.slice(0, 20)}`);
    setTimeout(() => res.end(`${event.slice(20)}\r\n\r\n: keep-alive\n\n`), 20);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: listed }));
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as { id?: number; method?: string }) : {};
      seen.push({ headers: req.headers, body });
      answer(body, res);
    });
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const target = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`);
  adapter = await createAdapter({ target, token: 'tok', backend: 'ref', builtins: new Set(['whoami']) });
});

afterAll(async () => {
  adapter.closeAllConnections();
  upstream.closeAllConnections();
  await Promise.all([adapter, upstream].map((s) => new Promise((ok) => s.close(ok))));
});

function post(
  message: object,
  headers: Record<string, string> = {},
): Promise<{ headers: IncomingHttpHeaders; text: string }> {
  const { port } = adapter.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(message));
  });
}

const last = (): Seen => seen[seen.length - 1]!;

describe('conformance adapter', () => {
  it('adds the bearer token and the backend prefix to a called tool, in the body and the Mcp-Name header', async () => {
    await post(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'test_simple_text' } },
      { 'mcp-method': 'tools/call', 'mcp-name': 'test_simple_text', authorization: 'Bearer other' },
    );
    expect(last().headers.authorization).toBe('Bearer tok');
    expect(last().headers['mcp-name']).toBe('ref__test_simple_text');
    expect(last().body).toMatchObject({ params: { name: 'ref__test_simple_text' } });
  });

  it('leaves the gateway builtins and resource URIs unprefixed', async () => {
    await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami' } });
    expect(last().body).toMatchObject({ params: { name: 'whoami' } });
    await post({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'test://static-text' } });
    expect(last().body).toMatchObject({ params: { uri: 'test://static-text' } });
  });

  it('prefixes prompts/get and a completion of a prompt argument', async () => {
    await post({ jsonrpc: '2.0', id: 4, method: 'prompts/get', params: { name: 'p' } });
    expect(last().body).toMatchObject({ params: { name: 'ref__p' } });
    await post({
      jsonrpc: '2.0',
      id: 5,
      method: 'completion/complete',
      params: { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: '' } },
    });
    expect(last().body).toMatchObject({ params: { ref: { name: 'ref__p' } } });
  });

  it('strips the prefix from list results in a JSON answer and passes Mcp-Session-Id back', async () => {
    const { headers, text } = await post({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
    expect(headers['mcp-session-id']).toBe('s1');
    expect(JSON.parse(text)).toMatchObject({
      result: { tools: [{ name: 'test_simple_text' }, { name: 'whoami' }], prompts: [{ name: 'p' }] },
    });
  });

  it('rewrites an SSE event that arrives in pieces, keeping its id and event lines', async () => {
    const { text } = await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_simple_text' } });
    const [event, comment] = text.split('\n\n');
    const lines = event!.split('\n');
    expect(lines.slice(0, 2)).toEqual(['id: e1', 'event: message']);
    expect(JSON.parse(lines[2]!.slice('data: '.length))).toMatchObject({
      id: 7,
      result: { tools: [{ name: 'test_simple_text' }, { name: 'whoami' }] },
    });
    expect(comment).toBe(': keep-alive');
  });

  it("rewrites an Origin naming the adapter to the gateway's, and passes other origins and Host unchanged", async () => {
    const own = (adapter.address() as AddressInfo).port;
    const gatewayPort = (upstream.address() as AddressInfo).port;
    await post({ jsonrpc: '2.0', id: 8, method: 'ping' }, { origin: `http://localhost:${own}` });
    expect(last().headers.origin).toBe(`http://localhost:${gatewayPort}`);
    await post({ jsonrpc: '2.0', id: 9, method: 'ping' }, { origin: 'http://evil.example', host: 'evil.example' });
    expect(last().headers.origin).toBe('http://evil.example');
    expect(last().headers.host).toBe('evil.example');
  });
});
