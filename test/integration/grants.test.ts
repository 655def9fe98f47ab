import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { BackendPool } from '../../src/backends/pool.js';
import { parseConfig } from '../../src/config/load.js';
import { Federation } from '../../src/federation/federation.js';
import { createSessionServer } from '../../src/mcp/session-server.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import {
  connectClient,
  EVERYTHING,
  nodeBackend,
  ROOT,
  startGateway,
  text,
  TOY,
  waitFor,
  type ConnectedClient,
  type RunningGateway,
} from '../helpers/gateway.js';
import { openSession, rawMcp } from '../helpers/raw-mcp.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');

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

/** A personal access token with these scopes on a helper-started gateway. */
async function tokenWith(gw: RunningGateway, scopes: string[]): Promise<string> {
  return (await gw.gateway.createPersonalToken({ name: scopes.join(' '), scopes, ttlSeconds: 600 })).token;
}

/** Every request the gateway serves goes through one table; what it lacks, and what it says no to. */
describe('every data path checks the grant, deny by default', () => {
  const TEXT_TEMPLATE = 'demo://resource/dynamic/text/{resourceId}';
  const complete = (id: number, ref: Record<string, unknown>, argument: Record<string, string>) => ({
    jsonrpc: '2.0',
    id,
    method: 'completion/complete',
    params: { ref, argument },
  });

  it('refuses completion/complete on an ungranted backend’s prompt and resource template, naming the scope', async () => {
    await using gw = await startGateway({ everything: nodeBackend(EVERYTHING, ['stdio']), toy: nodeBackend(TOY) });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready');
    const prompt = { type: 'ref/prompt', name: 'everything__completable-prompt' };
    const template = { type: 'ref/resource', uri: TEXT_TEMPLATE };

    // The same requests work with the grant: the refusals below are the grant's doing.
    const granted = await tokenWith(gw, ['mcp:everything:read']);
    const grantedSession = await openSession(gw.mcpUrl, granted);
    const ok = await rawMcp(gw.mcpUrl, {
      token: granted,
      sessionId: grantedSession,
      body: complete(1, prompt, { name: 'department', value: 'Eng' }),
    });
    expect(ok.messages[0]).toMatchObject({ result: { completion: { values: ['Engineering'] } } });
    const okTemplate = await rawMcp(gw.mcpUrl, {
      token: granted,
      sessionId: grantedSession,
      body: complete(2, template, { name: 'resourceId', value: '1' }),
    });
    expect(okTemplate.messages[0]).toHaveProperty('result.completion.values');

    const narrow = await tokenWith(gw, ['mcp:toy:write']);
    const sessionId = await openSession(gw.mcpUrl, narrow);
    for (const ref of [prompt, template]) {
      const refused = await rawMcp(gw.mcpUrl, {
        token: narrow,
        sessionId,
        body: complete(3, ref, { name: ref === prompt ? 'department' : 'resourceId', value: '' }),
      });
      expect(refused.status).toBe(403);
      expect(refused.headers['www-authenticate']).toContain('error="insufficient_scope", scope="mcp:everything:read"');
    }
  });

  it('refuses completion of an ungranted backend inside a session too, as if it did not exist', async () => {
    await using running = await federationOf({ everything: nodeBackend(EVERYTHING, ['stdio']), toy: nodeBackend(TOY) });
    const { pool, federation } = running;
    await waitFor(() => federation.catalog.resourceTemplates.length > 0, 'everything catalog');
    const other = await sessionWith(federation, pool, ['mcp:toy:write']);
    await expect(
      other.complete({
        ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
        argument: { name: 'department', value: 'E' },
      }),
    ).rejects.toThrow(/Unknown prompt: everything__completable-prompt/);
    await expect(
      other.complete({
        ref: { type: 'ref/resource', uri: TEXT_TEMPLATE },
        argument: { name: 'resourceId', value: '1' },
      }),
    ).rejects.toThrow(/No backend serves resource template/);
    const reader = await sessionWith(federation, pool, ['mcp:everything:read']);
    const done = await reader.complete({
      ref: { type: 'ref/resource', uri: TEXT_TEMPLATE },
      argument: { name: 'resourceId', value: '1' },
    });
    expect(done.completion.values).toBeDefined();
  });

  it('refuses a method missing from the table, even one the MCP schema defines, without failing its batch', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY) });
    // Batches exist up to 2025-03-26.
    const sessionId = await openSession(gw.mcpUrl, gw.token, '2025-03-26');
    const answer = await rawMcp(gw.mcpUrl, {
      token: gw.token,
      sessionId,
      body: [
        // Valid MCP requests the SDK would take in and route to whatever handler it had for them.
        { jsonrpc: '2.0', id: 1, method: 'tasks/list', params: {} },
        { jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { taskId: 'x' } },
        { jsonrpc: '2.0', id: 3, method: 'vendor/export_everything', params: {} },
        { jsonrpc: '2.0', id: 4, method: 'ping' },
      ],
    });
    expect(answer.status).toBe(200);
    const byId = new Map(answer.messages.map((m) => [m.id, m]));
    expect(byId.get(1)).toMatchObject({ error: { code: -32601, message: 'Method not found: tasks/list' } });
    expect(byId.get(2)).toMatchObject({ error: { code: -32601, message: 'Method not found: tasks/get' } });
    expect(byId.get(3)).toMatchObject({
      error: { code: -32601, message: 'Method not found: vendor/export_everything' },
    });
    expect(byId.get(4)).toMatchObject({ result: {} });
  });

  it('sends a backend’s log messages only to sessions granted that backend', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY), other: nodeBackend(TOY, [], { TOY_NAME: 'other' }) });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready');
    const logsOf = (session: ConnectedClient) => {
      const seen: string[] = [];
      session.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        seen.push(`${n.params.logger}: ${String(n.params.data)}`);
      });
      return seen;
    };
    await using owner = await connectClient(gw.mcpUrl);
    await using toyReader = await connectClient(gw.mcpUrl, await tokenWith(gw, ['mcp:toy:read']));
    await using otherReader = await connectClient(gw.mcpUrl, await tokenWith(gw, ['mcp:other:read']));
    const toyLogs = logsOf(toyReader);
    const otherLogs = logsOf(otherReader);
    const log = (backend: string, message: string) =>
      owner.client.callTool({ name: `${backend}__log`, arguments: { message } });

    // Each session's stream is open once it got a message of its own backend; messages on one
    // stream arrive in order, so anything sent to it before a later fence arrives before that fence.
    await waitFor(async () => (await log('other', 'fence 1'), otherLogs.includes('other/toy: fence 1')), 'fence 1');
    await waitFor(async () => (await log('toy', 'toy secret'), toyLogs.includes('toy/toy: toy secret')), 'toy log');
    await waitFor(async () => (await log('other', 'fence 2'), otherLogs.includes('other/toy: fence 2')), 'fence 2');
    expect(otherLogs.filter((line) => line.startsWith('toy/'))).toEqual([]);
    expect(toyLogs.filter((line) => line.startsWith('other/'))).toEqual([]);
  });

  it('shows whoami’s backend detail only for granted backends, and masks secrets in their errors', async () => {
    const key = 'sk-live-4f9a8c7e6d5b4a3c2e1f0a9b';
    await using gw = await startGateway({
      toy: nodeBackend(TOY),
      // Fails its start-up with an error quoting its own key, as real servers do ("invalid API key …").
      keyed: nodeBackend(ENV_SERVER, [], { API_KEY: key, ENV_REJECT_INIT: 'API_KEY' }),
    });
    await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'keyed' && s.state === 'down' && s.lastError),
      'keyed down',
    );
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'toy')?.state === 'ready', 'toy ready');
    // The owner's console shows the whole status (the owner wrote the key); clients never do.
    const whoamiWith = async (scopes: string[]) => {
      await using session = await connectClient(gw.mcpUrl, await tokenWith(gw, scopes));
      const result = await session.client.callTool({ name: 'whoami', arguments: {} });
      return { text: text(result), report: result.structuredContent as { backends: Array<Record<string, unknown>> } };
    };

    const toyOnly = await whoamiWith(['mcp:toy:read']);
    expect(toyOnly.report.backends.map((b) => b.name)).toEqual(['toy']);
    expect(toyOnly.text).not.toContain('keyed');

    const keyed = await whoamiWith(['mcp:keyed:read']);
    expect(keyed.report.backends).toEqual([
      expect.objectContaining({
        name: 'keyed',
        lastError: { category: 'auth', message: expect.stringContaining('invalid API key') },
      }),
    ]);
    expect(keyed.text).not.toContain(key);
    expect(keyed.text).not.toContain(key.slice(8));
  });
});
