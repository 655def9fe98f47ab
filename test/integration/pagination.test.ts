import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient, nodeBackend, ROOT, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

const PAGED = join(ROOT, 'test/fixtures/paged-server.mjs');

describe('pagination', () => {
  it('follows a backend’s nextCursor to the end', async () => {
    await using gw = await startGateway({ paged: nodeBackend(PAGED, [], { PAGE_SIZE: '2', TOOL_COUNT: '7' }) });
    const status = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'ready');
    expect(status.toolCount).toBe(7);
    await using session = await connectClient(gw.mcpUrl);
    const { tools } = await session.client.listTools();
    expect(tools.filter((t) => t.name.startsWith('paged__'))).toHaveLength(7);
    expect(text(await session.client.callTool({ name: 'paged__paged_6', arguments: {} }))).toBe('called paged_6');
  });

  it('pages its own lists when listPageSize is set, and a client that follows cursors sees everything', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, { listPageSize: 3 });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'ready');
    await using session = await connectClient(gw.mcpUrl);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await session.client.listTools(cursor === undefined ? {} : { cursor });
      expect(page.tools.length).toBeLessThanOrEqual(3);
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('whoami');
    expect(names).toContain('toy__echo');
  });

  it('refuses a cursor it did not issue', async () => {
    await using gw = await startGateway({}, { listPageSize: 3 });
    await using session = await connectClient(gw.mcpUrl);
    await expect(session.client.listTools({ cursor: 'not-a-cursor' })).rejects.toThrow(/Invalid cursor/);
  });
});
