import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  EVERYTHING,
  LOOPBACK_PRELOAD,
  spawnListening,
  startGateway,
  text,
  TOY,
  waitFor,
} from '../helpers/gateway.js';

// The gateway's own Streamable HTTP client transport, against real HTTP servers.
describe('HTTP backends', () => {
  it('relays list_changed that an HTTP backend sends on its GET stream', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1' });
    await using gw = await startGateway({ web: { type: 'http', url: toy.url.href } });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
    await using session = await connectClient(gw.mcpUrl);
    let notified = false;
    session.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified = true;
    });
    const added = text(await session.client.callTool({ name: 'web__add_tool', arguments: {} }));
    await waitFor(() => notified, 'list_changed relayed from the HTTP backend');
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toContain(`web__${added}`);
  });

  it('streams progress from an HTTP backend that answers over SSE', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1' });
    await using gw = await startGateway({ web: { type: 'http', url: toy.url.href } });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
    await using session = await connectClient(gw.mcpUrl);
    const seen: Progress[] = [];
    const result = await session.client.callTool({ name: 'web__count', arguments: { steps: 4 } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    expect(text(result)).toBe('counted to 4');
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
  });

  it('talks to a backend that answers plain JSON', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_JSON: '1' });
    await using gw = await startGateway({ web: { type: 'http', url: toy.url.href } });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'web__echo', arguments: { text: 'json' } }))).toBe('json');
  });

  it('sends the configured headers to the backend', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_REQUIRE_HEADER: 'x-api-key=s3cret' });
    await using gw = await startGateway({
      good: { type: 'http', url: toy.url.href, headers: { 'X-Api-Key': 's3cret' } },
      bad: { type: 'http', url: toy.url.href, headers: { 'X-Api-Key': 'wrong' } },
    });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state !== 'connecting'), 'both settled');
    const [good, bad] = gw.gateway.backendStatuses();
    expect(good!.state).toBe('ready');
    expect(bad!.state).toBe('down');
    expect(bad!.lastError).toMatch(/401/);
  });

  it('falls back to the legacy HTTP+SSE transport when Streamable HTTP is refused', async () => {
    await using legacy = await spawnListening(['--import', LOOPBACK_PRELOAD, EVERYTHING, 'sse'], {}, '/sse');
    await using gw = await startGateway({ old: { type: 'http', url: legacy.url.href } });
    const status = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.state === 'ready'),
      'legacy backend ready',
      20_000,
    );
    expect(status.transport).toBe('sse');
    await using session = await connectClient(gw.mcpUrl);
    const result = await session.client.callTool({ name: 'old__echo', arguments: { message: 'from the past' } });
    expect(text(result)).toContain('from the past');
  });

  it('reconnects to an HTTP backend that restarted and forgot the session', async () => {
    const toy = await spawnListening([TOY], { TOY_HTTP: '1' });
    const port = toy.port;
    await using gw = await startGateway({ web: { type: 'http', url: toy.url.href } }, { pingIntervalMs: 250 });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'web ready');
    await toy[Symbol.asyncDispose]();
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state !== 'ready', 'web noticed down');
    // Same port, new process: the old session id means nothing to it.
    await using again = await spawnListening([TOY], { TOY_HTTP: '1', TOY_PORT: String(port) });
    expect(again.port).toBe(port);
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'web ready again', 20_000);
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'web__echo', arguments: { text: 'back' } }))).toBe('back');
  });
});
