import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, startGateway, type RunningGateway } from '../helpers/gateway.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The bearer raw() sends unless told otherwise; set to the gateway under test's token. */
let bearer = '';

/** node:http rather than fetch, because fetch will not send a forged Host header. */
function raw(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; token?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${options.token ?? bearer}`,
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

describe('endpoint security', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({}, { maxBodyBytes: 64 * 1024 });
    bearer = gw.token;
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  it('binds loopback only', () => {
    expect(gw.address.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a foreign Host header with 403 (DNS rebinding)', async () => {
    const res = await raw(gw.mcpUrl, { headers: { host: 'evil.example.com' }, body: initialize });
    expect(res.status).toBe(403);
    expect(res.body).toContain('Host not allowed');
  });

  it('refuses a foreign Host on every route, not only /mcp', async () => {
    const res = await raw(new URL('/healthz', gw.mcpUrl), { method: 'GET', headers: { host: 'evil.example.com:80' } });
    expect(res.status).toBe(403);
  });

  it('refuses a foreign Origin with 403', async () => {
    const res = await raw(gw.mcpUrl, { headers: { origin: 'http://evil.example.com' }, body: initialize });
    expect(res.status).toBe(403);
    expect(res.body).toContain('Origin not allowed');
  });

  it('refuses the opaque "null" Origin', async () => {
    const res = await raw(gw.mcpUrl, { headers: { origin: 'null' }, body: initialize });
    expect(res.status).toBe(403);
  });

  it('refuses a loopback Origin on another port (another local site), accepts its own', async () => {
    const res = await raw(gw.mcpUrl, { headers: { origin: 'http://localhost:6274' }, body: initialize });
    expect(res.status).toBe(403);
    const own = await raw(gw.mcpUrl, { headers: { origin: `http://localhost:${gw.address.port}` }, body: initialize });
    expect(own.status).toBe(200);
  });

  it('accepts localhost and [::1] spellings of the Host', async () => {
    for (const host of [`localhost:${gw.address.port}`, `[::1]:${gw.address.port}`]) {
      const res = await raw(gw.mcpUrl, { headers: { host }, body: initialize });
      expect(res.status, host).toBe(200);
    }
  });

  it('answers an oversized body with 413 without reading it whole', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(100 * 1024) } });
    const res = await raw(gw.mcpUrl, { body: big });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
  });

  it('answers garbage JSON with a JSON-RPC parse error', async () => {
    const res = await raw(gw.mcpUrl, { body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: expect.any(String) },
    });
  });

  it('refuses a non-initialize request without a session', async () => {
    const res = await raw(gw.mcpUrl, { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(res.status).toBe(400);
  });

  it('answers an unknown session with 404 so the client re-initializes', async () => {
    const res = await raw(gw.mcpUrl, {
      headers: { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('refuses methods other than GET, POST and DELETE', async () => {
    const res = await raw(gw.mcpUrl, { method: 'PUT', body: initialize });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST, DELETE');
  });

  it('refuses /api without the owner token', async () => {
    const res = await raw(new URL('/api/backends', gw.mcpUrl), { method: 'GET' });
    expect(res.status).toBe(401);
    const ok = await raw(new URL('/api/backends', gw.mcpUrl), {
      method: 'GET',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    expect(ok.status).toBe(200);
  });

  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
    it(`negotiates protocol version ${version}`, async () => {
      const res = await raw(gw.mcpUrl, {
        headers: { accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body).result.protocolVersion).toBe(version);
    });
  }

  it('answers over SSE when the client accepts only text/event-stream', async () => {
    const res = await raw(gw.mcpUrl, { headers: { accept: 'text/event-stream' }, body: initialize });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const data = res.body.split('\n').find((line) => line.startsWith('data: '));
    expect(JSON.parse(data!.slice(6)).result.serverInfo.name).toBe('cortex-gateway');
  });

  it('refuses a client that accepts neither JSON nor SSE with 406', async () => {
    const res = await raw(gw.mcpUrl, { headers: { accept: 'text/html' }, body: initialize });
    expect(res.status).toBe(406);
  });

  it('refuses a body that is not JSON-RPC with -32600', async () => {
    const res = await raw(gw.mcpUrl, { body: JSON.stringify({ hello: 'world' }) });
    expect(res.status).toBe(400);
  });

  it('refuses an unsupported protocol version header', async () => {
    const session = await connectClient(gw.mcpUrl);
    const res = await raw(gw.mcpUrl, {
      headers: { 'mcp-session-id': session.transport.sessionId!, 'mcp-protocol-version': '1999-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('unsupported protocol version 1999-01-01');
    await session[Symbol.asyncDispose]();
  });

  it('closes a session that stays idle past sessionIdleMs', async () => {
    await using idleGw = await startGateway({}, { sessionIdleMs: 1000 });
    // A client that initializes and goes quiet without DELETE and without an open stream.
    const init = await raw(idleGw.mcpUrl, { body: initialize, token: idleGw.token });
    const id = init.headers['mcp-session-id'] as string;
    await new Promise((r) => setTimeout(r, 2600));
    const res = await raw(idleGw.mcpUrl, {
      token: idleGw.token,
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('keeps a quiet session whose client holds its event stream open', async () => {
    await using idleGw = await startGateway({}, { sessionIdleMs: 1000 });
    const init = await raw(idleGw.mcpUrl, { body: initialize, token: idleGw.token });
    const id = init.headers['mcp-session-id'] as string;
    const headers = {
      authorization: `Bearer ${idleGw.token}`,
      accept: 'text/event-stream',
      'mcp-session-id': id,
      'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    };
    const stream = request(idleGw.mcpUrl, { method: 'GET', headers });
    const opened = new Promise<number>((resolve) => stream.once('response', (res) => resolve(res.statusCode ?? 0)));
    stream.end();
    expect(await opened).toBe(200);
    try {
      await new Promise((r) => setTimeout(r, 2600));
      const res = await raw(idleGw.mcpUrl, {
        token: idleGw.token,
        headers: { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(res.status).toBe(200);
    } finally {
      stream.destroy();
    }
  });

  it('keeps a session that keeps making requests (and has no stream open)', async () => {
    await using idleGw = await startGateway({}, { sessionIdleMs: 1000 });
    const init = await raw(idleGw.mcpUrl, { body: initialize, token: idleGw.token });
    const id = init.headers['mcp-session-id'] as string;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 450));
      const res = await raw(idleGw.mcpUrl, {
        token: idleGw.token,
        headers: { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
        body: JSON.stringify({ jsonrpc: '2.0', id: i + 2, method: 'tools/list' }),
      });
      expect(res.status, `request ${i}`).toBe(200);
    }
  });

  it('terminates a session on DELETE', async () => {
    const session = await connectClient(gw.mcpUrl);
    const id = session.transport.sessionId!;
    await session.transport.terminateSession();
    const res = await raw(gw.mcpUrl, {
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    await session.client.close();
  });
});
