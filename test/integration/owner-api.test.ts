import { describe, expect, it } from 'vitest';
import { connectClient, nodeBackend, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

async function api(gw: { mcpUrl: URL; gateway: { ownerToken: string } }, path: string) {
  const res = await fetch(new URL(path, gw.mcpUrl), { headers: { authorization: `Bearer ${gw.gateway.ownerToken}` } });
  return { status: res.status, body: (await res.json()) as { ok: boolean; value?: unknown } };
}

describe('owner API (headless)', () => {
  it('reports tools whose names had to change, and both stay callable under distinct names', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY, [], { TOY_ODD_NAMES: '1' }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'ready');
    const notes = await waitFor(async () => {
      const { body } = await api(gw, '/api/catalog/notes');
      return (body.value as unknown[]).length > 0
        ? (body.value as Array<{ original: string; name: string; note: string }>)
        : undefined;
    }, 'naming notes');
    const renamed = notes.find((n) => n.original === 'odd.name')!;
    expect(renamed.note).toMatch(/renamed to avoid a collision/);
    expect(renamed.name).toMatch(/^toy__odd_name_[0-9a-f]{6}$/);
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'toy__odd_name', arguments: {} }))).toBe('odd_name');
    expect(text(await session.client.callTool({ name: renamed.name, arguments: {} }))).toBe('odd.name');
  });

  it('keeps a backend’s recent stderr lines', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'ready');
    const { body } = await api(gw, '/api/backends/toy/stderr');
    expect(body.value).toEqual([expect.stringMatching(/^toy server toy starting \(pid \d+\)$/)]);
    const missing = await api(gw, '/api/backends/nope/stderr');
    expect(missing.status).toBe(404);
  });
});
