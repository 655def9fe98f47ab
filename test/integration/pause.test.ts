import { describe, expect, it } from 'vitest';
import type { GatewayStatusView } from '../../src/api/contract.js';
import { connectClient, nodeBackend, startGateway, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';

async function setPaused(gw: RunningGateway, paused: unknown) {
  const res = await fetch(new URL('/api/gateway', gw.mcpUrl), {
    method: 'PUT',
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ paused }),
  });
  return { status: res.status, body: (await res.json()) as { value: GatewayStatusView; error: { message: string } } };
}

// Pause/Resume from the tray or the console: clients are refused for a while, nothing is lost.
describe('pausing the gateway', () => {
  it('refuses MCP requests with 503 while paused, keeps backends and sessions, and resumes', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const pid = gw.gateway.backendStatuses()[0]!.pid;
    await using session = await connectClient(gw.mcpUrl);
    const states: boolean[] = [];
    gw.gateway.events.on('paused', (p) => states.push(p));

    const paused = await setPaused(gw, true);
    expect(paused.body.value).toMatchObject({ paused: true, mcpUrl: gw.address.mcpUrl });
    const refused = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/paused/);
    await expect(session.client.listTools()).rejects.toThrow();
    expect(gw.gateway.backendStatuses()[0]).toMatchObject({ state: 'ready', pid });

    expect((await setPaused(gw, false)).body.value.paused).toBe(false);
    expect((await session.client.listTools()).tools.map((t) => t.name)).toContain('toy__echo');
    expect(states).toEqual([true, false]);
  });

  it('refuses a malformed change naming the field', async () => {
    await using gw = await startGateway({});
    const res = await setPaused(gw, 'yes');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_argument',
      field: 'paused',
      message: 'must be true or false',
    });
    expect(gw.gateway.paused).toBe(false);
  });
});
