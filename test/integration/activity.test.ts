import { describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../src/api/contract.js';
import { connectClient, nodeBackend, startGateway, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';

async function activity(gw: RunningGateway, query = ''): Promise<ActivityEntry[]> {
  const res = await fetch(new URL(`/api/activity${query}`, gw.mcpUrl), {
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { value: ActivityEntry[] }).value;
}

// The Activity page's source: every tool call with its client, backend, duration and outcome.
describe('activity of tool calls', () => {
  it('records calls with the client, backend and outcome, and argument names but not their values', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    await session.client.callTool({ name: 'toy__echo', arguments: { text: 'my secret diary' } });
    await session.client.callTool({ name: 'toy__nope', arguments: {} }).catch(() => {});

    const entries = await activity(gw);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({
      tool: 'toy__echo',
      backend: 'toy',
      clientName: 'tests',
      outcome: 'ok',
      argumentKeys: ['text'],
    });
    expect(entries[1]!.durationMs).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({ tool: 'toy__nope', outcome: 'refused' });
    expect(JSON.stringify(entries)).not.toContain('diary');
    expect((await activity(gw, `?after=${entries[1]!.id}`)).map((e) => e.tool)).toEqual(['toy__nope']);
    expect((await activity(gw, '?outcome=ok')).map((e) => e.tool)).toEqual(['toy__echo']);
  });

  it('records a call refused for its scope (HTTP 403) with the scope it needed', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const { token } = await gw.gateway.createPersonalToken({
      name: 'reader',
      scopes: ['mcp:toy:read'],
      ttlSeconds: 60,
    });
    await using reader = await connectClient(gw.mcpUrl, token);
    await expect(reader.client.callTool({ name: 'toy__pid', arguments: {} })).rejects.toThrow();
    const [entry] = await activity(gw, '?outcome=refused');
    expect(entry).toMatchObject({ tool: 'toy__pid', clientName: 'reader', error: 'needs mcp:toy:write' });
  });

  it('records a failing backend call as an error with its message', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY, [], {}, { timeoutMs: 200 }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    await expect(session.client.callTool({ name: 'toy__hang', arguments: {} })).rejects.toThrow();
    const [entry] = await activity(gw);
    expect(entry).toMatchObject({ tool: 'toy__hang', outcome: 'error' });
    expect(entry!.error).toMatch(/did not answer/);
  });

  it('records argument values, redacted, when the owner turns that on', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, { activityArguments: true });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    await session.client.callTool({ name: 'toy__echo', arguments: { text: 'hello' } });
    expect((await activity(gw))[0]!.arguments).toEqual({ text: 'hello' });
  });

  it('is owner-only', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    expect(
      (await fetch(new URL('/api/activity', gw.mcpUrl), { headers: { authorization: `Bearer ${gw.token}` } })).status,
    ).toBe(401);
  });
});
