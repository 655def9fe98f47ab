import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

// Browsers treat every localhost port as another site, but a page on any of them can send
// requests to the gateway: its Origin must be the gateway's own (port included) or one the owner
// listed in allowedOrigins (issue 9, finding 19).

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
const REGISTRATION = JSON.stringify({ client_name: 'Origin Test', redirect_uris: ['http://127.0.0.1:53682/callback'] });
/** The MCP Inspector's page in its direct mode, which the owner lists. */
const INSPECTOR = 'http://localhost:6274';

describe('exact Origins on the local listener', () => {
  let gw: RunningGateway;
  let other: number;
  const mcp = (origin?: string) =>
    send(gw.mcpUrl, {
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${gw.token}`,
        ...(origin ? { origin } : {}),
      },
      body: INITIALIZE,
    });
  const register = (origin?: string) =>
    send(new URL('/register', gw.mcpUrl), {
      headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
      body: REGISTRATION,
    });
  const clientCount = () => gw.gateway.authorizationServer!.clients().length;

  beforeAll(async () => {
    gw = await startGateway({}, { allowedOrigins: [INSPECTOR] });
    // Another local port: where some other app or dev server the owner visits would run.
    other = gw.address.port === 65535 ? gw.address.port - 1 : gw.address.port + 1;
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  it('refuses /mcp from a page on another loopback port, whatever its spelling', async () => {
    for (const origin of [`http://127.0.0.1:${other}`, `http://localhost:${other}`, `http://[::1]:${other}`]) {
      const res = await mcp(origin);
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error: 'forbidden', message: `Origin not allowed: ${origin}` });
    }
  });

  it('refuses /register from a page on another loopback port, and registers nothing', async () => {
    const before = clientCount();
    const res = await register(`http://localhost:${other}`);
    expect(res.status).toBe(403);
    expect(clientCount()).toBe(before);
  });

  it('refuses a CORS preflight for /register from another loopback port', async () => {
    const res = await send(new URL('/register', gw.mcpUrl), {
      method: 'OPTIONS',
      headers: { origin: `http://127.0.0.1:${other}`, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses the other OAuth endpoints and the owner API from another loopback port', async () => {
    const origin = `http://127.0.0.1:${other}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin };
    expect((await send(new URL('/token', gw.mcpUrl), { headers: form, body: 'grant_type=x' })).status).toBe(403);
    expect((await send(new URL('/consent', gw.mcpUrl), { headers: form, body: 'decision=approve' })).status).toBe(403);
    const api = await send(new URL('/api/backends', gw.mcpUrl), {
      method: 'GET',
      headers: { origin, authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    expect(api.status).toBe(403);
  });

  it("accepts the listener's own origin, in each loopback spelling, on /mcp and /register", async () => {
    const port = gw.address.port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      expect((await mcp(origin)).status, origin).toBe(200);
      expect((await register(origin)).status, origin).toBe(201);
    }
  });

  it('accepts an origin the owner listed in allowedOrigins, with CORS on /mcp', async () => {
    const res = await mcp(INSPECTOR);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(INSPECTOR);
    expect(res.headers['access-control-expose-headers']).toContain('mcp-session-id');
    expect((await register(INSPECTOR)).status).toBe(201);
  });

  it('answers the CORS preflight on /mcp for a listed origin only', async () => {
    const preflight = (origin: string) =>
      send(gw.mcpUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const listed = await preflight(INSPECTOR);
    expect(listed.status).toBe(204);
    expect(listed.headers['access-control-allow-origin']).toBe(INSPECTOR);
    expect(listed.headers['access-control-allow-headers']).toContain('authorization');
    expect((await preflight(`http://localhost:${other}`)).status).toBe(403);
  });

  it('lets requests without an Origin through (clients that are not browsers)', async () => {
    expect((await mcp()).status).toBe(200);
    expect((await register()).status).toBe(201);
  });
});
