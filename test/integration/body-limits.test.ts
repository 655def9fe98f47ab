import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

// A body the route refuses is the client's fault: 413 when too large, 400 when malformed, in the
// shape of the route (OAuth error, consent page, owner API result), never a 500 (issue 9, finding 18).

const OVER_64_KIB = 'x'.repeat(70 * 1024);

describe('bodies the routes refuse', () => {
  let gw: RunningGateway;
  let logs: string[];
  beforeAll(async () => {
    logs = [];
    gw = await startGateway({}, {}, { logger: createConsoleLogger({ write: (line) => logs.push(line) }) });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  const post = (path: string, type: string, body: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, gw.mcpUrl), { method: 'POST', headers: { 'content-type': type, ...headers }, body });
  const json = 'application/json';
  const form = 'application/x-www-form-urlencoded';

  it('answers a /register body over 64 KiB with 413 and an OAuth error', async () => {
    const res = await post('/register', json, JSON.stringify({ client_name: OVER_64_KIB, redirect_uris: [] }));
    expect(res.status).toBe(413);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Request body is too large (limit 64 KiB)',
    });
  });

  it('answers malformed JSON at /register with 400', async () => {
    const res = await post('/register', json, '{"client_name": ');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers /token and /revoke bodies over 64 KiB with 413', async () => {
    for (const path of ['/token', '/revoke']) {
      const res = await post(path, form, `grant_type=authorization_code&code=${OVER_64_KIB}`);
      expect(res.status, path).toBe(413);
      expect(await res.json(), path).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('answers a consent form over 64 KiB with a 413 page', async () => {
    const res = await post('/consent', form, `request_id=x&csrf=${OVER_64_KIB}`);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('Request body is too large');
  });

  it('answers an owner API body over its limit with 413 too_large, naming the body', async () => {
    const res = await post('/api/backends/x/test', json, JSON.stringify({ command: OVER_64_KIB }), {
      authorization: `Bearer ${gw.gateway.ownerToken}`,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      ok: false,
      error: { code: 'too_large', message: 'Request body is too large (limit 64 KiB)', field: 'body' },
    });
  });

  it('answers malformed JSON to the owner API with 400 invalid_argument', async () => {
    const res = await post('/api/tokens', json, '{"scopes": [', { authorization: `Bearer ${gw.gateway.ownerToken}` });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'body' } });
  });

  it('logs none of these as a server error', () => {
    expect(logs.filter((line) => / error /.test(line))).toEqual([]);
  });
});
