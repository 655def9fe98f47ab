import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { LIST_CHANGED_WINDOW_MS } from '../../src/mcp/endpoint.js';
import { connectClient, nodeBackend, startGateway, TOY, waitFor } from '../helpers/gateway.js';

describe('list_changed towards clients', () => {
  it('reaches a client coalesced when a backend changes its tools ten times a second, the last change included', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
    await using watcher = await connectClient(gw.mcpUrl);
    await using caller = await connectClient(gw.mcpUrl);

    const received: number[] = [];
    let listed: string[] = [];
    watcher.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      received.push(Date.now());
      // What a client does on list_changed: list again.
      listed = (await watcher.client.listTools()).tools.map((tool) => tool.name);
    });
    // The first change proves the watcher's event stream is open.
    await caller.client.callTool({ name: 'toy__add_tool', arguments: {} });
    await waitFor(() => received.length > 0, 'first list_changed');

    const changes = 15;
    const started = Date.now();
    for (let i = 0; i < changes; i++) {
      await caller.client.callTool({ name: 'toy__add_tool', arguments: {} });
      // Paces the burst at about ten changes a second, as a busy backend would.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const last = `toy__added_${changes + 1}`;
    await waitFor(() => listed.includes(last), 'the last change announced and listed');
    const span = Date.now() - started;
    const during = received.filter((at) => at >= started).length;
    // One per window at most (plus the trailing one of the warm-up), instead of one per change.
    expect(during).toBeLessThan(changes);
    expect(during).toBeLessThanOrEqual(Math.ceil(span / LIST_CHANGED_WINDOW_MS) + 2);
  });
});
