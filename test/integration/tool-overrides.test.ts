import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ToolView } from '../../src/api/contract.js';
import { connectClient, nodeBackend, startGateway, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';

async function configFile(content: unknown) {
  const path = join(await mkdtemp(join(tmpdir(), 'cortex-tools-')), 'cortex.config.json');
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

async function setTool(gw: RunningGateway, backend: string, tool: string, body: unknown) {
  const res = await fetch(new URL(`/api/tools/${backend}/${tool}`, gw.mcpUrl), {
    method: 'PUT',
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { ok: boolean; value: ToolView[]; error: { message: string } },
  };
}

async function toyGateway() {
  const path = await configFile({ mcpServers: { toy: nodeBackend(TOY) }, theme: 'dark' });
  const gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { configPath: path });
  await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
  return { gw, path };
}

// Per-tool overrides from the console: written to the config file, applied without restarting the
// backend, and seen by connected clients through tools/list_changed.
describe('tool overrides through the owner API', () => {
  it('turns a tool off: it vanishes from a connected client, the backend keeps running, the file records it', async () => {
    const { gw, path } = await toyGateway();
    await using _ = gw;
    const pid = gw.gateway.backendStatuses()[0]!.pid;
    await using session = await connectClient(gw.mcpUrl);
    expect((await session.client.listTools()).tools.map((t) => t.name)).toContain('toy__echo');
    let changed = false;
    session.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed = true));

    const res = await setTool(gw, 'toy', 'echo', { enabled: false });
    expect(res.status).toBe(200);
    expect(res.body.value.find((t) => t.original === 'echo')).toMatchObject({ enabled: false });
    expect((await session.client.listTools()).tools.map((t) => t.name)).not.toContain('toy__echo');
    await waitFor(() => changed, 'tools/list_changed');
    await expect(session.client.callTool({ name: 'toy__echo', arguments: { text: 'x' } })).rejects.toThrow(/toy__echo/);
    expect(gw.gateway.backendStatuses()[0]).toMatchObject({ pid, state: 'ready', restartCount: 0 });
    const saved = JSON.parse(await readFile(path, 'utf8')) as {
      mcpServers: { toy: { tools: unknown } };
      theme: string;
    };
    expect(saved.mcpServers.toy.tools).toEqual({ echo: { enabled: false } });
    expect(saved.theme).toBe('dark');

    expect((await setTool(gw, 'toy', 'echo', { enabled: true })).status).toBe(200);
    expect((await session.client.listTools()).tools.map((t) => t.name)).toContain('toy__echo');
    const restored = JSON.parse(await readFile(path, 'utf8')) as { mcpServers: { toy: { tools: unknown } } };
    expect(restored.mcpServers.toy.tools).toEqual({});
  });

  it('reclassifies a tool as read: a read-only grant now sees and calls it', async () => {
    const { gw } = await toyGateway();
    await using _ = gw;
    const { token } = await gw.gateway.createPersonalToken({
      name: 'reader',
      scopes: ['mcp:toy:read'],
      ttlSeconds: 60,
    });
    await using reader = await connectClient(gw.mcpUrl, token);
    expect((await reader.client.listTools()).tools.map((t) => t.name)).not.toContain('toy__pid');

    const res = await setTool(gw, 'toy', 'pid', { access: 'read' });
    expect(res.body.value.find((t) => t.original === 'pid')).toMatchObject({
      access: 'read',
      accessSource: 'override',
      scope: 'mcp:toy:read',
    });
    expect((await reader.client.listTools()).tools.map((t) => t.name)).toContain('toy__pid');
    const result = await reader.client.callTool({ name: 'toy__pid', arguments: {} });
    expect(result.isError).toBeFalsy();
  });

  it('refuses a bad change naming the field, and an unknown tool or backend with 404', async () => {
    const { gw, path } = await toyGateway();
    await using _ = gw;
    const before = await readFile(path, 'utf8');
    const bad = await setTool(gw, 'toy', 'echo', { access: 'admin' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      field: 'access',
      message: expect.stringMatching(/^must be "read", "write" or null/),
    });
    expect((await setTool(gw, 'toy', 'echo', { enable: false })).body.error).toMatchObject({
      field: 'enable',
      message: expect.stringMatching(/^unknown field/),
    });
    expect((await setTool(gw, 'toy', 'nope', { enabled: false })).status).toBe(404);
    expect((await setTool(gw, 'ghost', 'echo', { enabled: false })).status).toBe(404);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('lists disabled tools too, so the owner can turn them back on', async () => {
    const path = await configFile({
      mcpServers: { toy: { ...nodeBackend(TOY), tools: { hang: { enabled: false } } } },
    });
    await using gw = await startGateway(
      { toy: { ...nodeBackend(TOY), tools: { hang: { enabled: false } } } },
      {},
      { configPath: path },
    );
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const res = await fetch(new URL('/api/tools', gw.mcpUrl), {
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    const tools = ((await res.json()) as { value: ToolView[] }).value;
    expect(tools.find((t) => t.original === 'hang')).toMatchObject({ enabled: false, backend: 'toy' });
    expect(tools.find((t) => t.original === 'echo')).toMatchObject({
      enabled: true,
      name: 'toy__echo',
      access: 'read',
      accessSource: 'annotation',
    });
  });
});
