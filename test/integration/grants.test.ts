import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { BackendPool } from '../../src/backends/pool.js';
import { parseConfig } from '../../src/config/load.js';
import { Federation } from '../../src/federation/federation.js';
import { createSessionServer } from '../../src/mcp/session-server.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { connectClient, EVERYTHING, nodeBackend, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

/** A started backend pool with its federation, stopped on dispose. */
async function federationOf(mcpServers: Record<string, unknown>) {
  const pool = new BackendPool({
    config: parseConfig({ mcpServers }),
    logger: silentLogger,
    clock: systemClock,
    clientInfo: { name: 't', version: '1' },
  });
  const federation = new Federation(pool, silentLogger);
  pool.start();
  return { pool, federation, [Symbol.asyncDispose]: () => pool.stop() };
}

/** A session as a client with these scopes would get it, over the SDK's in-memory transport. */
async function sessionWith(federation: Federation, pool: BackendPool, scopes: string[]) {
  const mcp = createSessionServer({
    federation,
    statuses: () => pool.statuses(),
    serverInfo: { name: 'cortex-gateway', version: 'test' },
    identity: { subject: 'u', clientId: 'c', scopes },
    listPageSize: 0,
    subscriptions: { subscribe: async () => {}, unsubscribe: async () => {} },
    logger: silentLogger,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await mcp.server.connect(serverSide);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(clientSide);
  return client;
}

describe('grants filter the catalog', () => {
  it('shows a read grant only the read-only tools, and refuses the others', async () => {
    await using running = await federationOf({ toy: nodeBackend(TOY) });
    const { pool, federation } = running;
    await waitFor(() => federation.catalog.tools.length > 0, 'toy catalog');

    const reader = await sessionWith(federation, pool, ['mcp:toy:read']);
    const names = (await reader.listTools()).tools.map((t) => t.name);
    expect(names).toContain('toy__echo'); // readOnlyHint: true
    expect(names).not.toContain('toy__add_tool'); // no annotation counts as write
    expect(names).toContain('whoami'); // builtins need no scope
    expect(text(await reader.callTool({ name: 'toy__echo', arguments: { text: 'r' } }))).toBe('r');
    await expect(reader.callTool({ name: 'toy__add_tool', arguments: {} })).rejects.toThrow(
      /Unknown tool: toy__add_tool/,
    );

    const writer = await sessionWith(federation, pool, ['mcp:toy:write']);
    expect((await writer.listTools()).tools.map((t) => t.name)).toContain('toy__add_tool');

    const stranger = await sessionWith(federation, pool, ['mcp:other:write']);
    expect((await stranger.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'find_tools']);
    const found = await stranger.callTool({ name: 'find_tools', arguments: { query: 'echo' } });
    expect((found.structuredContent as { tools: unknown[] }).tools).toEqual([]);
  });
});

describe('grants filter prompts and resources', () => {
  it('shows prompts and resources only with the read grant of their backend', async () => {
    await using running = await federationOf({ everything: nodeBackend(EVERYTHING, ['stdio']), toy: nodeBackend(TOY) });
    const { pool, federation } = running;
    await waitFor(
      () => federation.catalog.prompts.length > 0 && federation.catalog.resources.length > 0,
      'everything catalog',
    );

    const reader = await sessionWith(federation, pool, ['mcp:everything:read']);
    expect((await reader.listPrompts()).prompts.length).toBeGreaterThan(0);
    const { resources } = await reader.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect((await reader.listResourceTemplates()).resourceTemplates.length).toBeGreaterThan(0);
    expect((await reader.readResource({ uri: resources[0]!.uri })).contents.length).toBeGreaterThan(0);

    const other = await sessionWith(federation, pool, ['mcp:toy:write']);
    expect((await other.listPrompts()).prompts).toEqual([]);
    expect((await other.listResources()).resources).toEqual([]);
    expect((await other.listResourceTemplates()).resourceTemplates).toEqual([]);
    await expect(other.readResource({ uri: resources[0]!.uri })).rejects.toThrow(/Resource not found/);
    await expect(other.getPrompt({ name: 'everything__simple-prompt' })).rejects.toThrow(/Unknown prompt/);
  });

  it('answers prompts/get outside the grant with HTTP 403 naming the read scope', async () => {
    await using gw = await startGateway({ everything: nodeBackend(EVERYTHING, ['stdio']), toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'everything ready');
    const { token } = await gw.gateway.createPersonalToken({
      name: 'narrow',
      scopes: ['mcp:toy:read'],
      ttlSeconds: 60,
    });
    await using session = await connectClient(gw.mcpUrl, token);
    const res = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': session.transport.sessionId!,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'prompts/get',
        params: { name: 'everything__simple-prompt' },
      }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="mcp:everything:read"');
  });
});
