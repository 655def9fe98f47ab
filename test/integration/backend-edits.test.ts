import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  connectClient,
  isAlive,
  memoryBackend,
  nodeBackend,
  startGateway,
  tempDir,
  TOY,
  waitFor,
} from '../helpers/gateway.js';

async function withConfigFile(content: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-edit-'));
  const path = join(dir, 'cortex.config.json');
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

// Backends edited through the owner API (what the console's forms call): written to the config
// file, applied live, the other backends untouched.
describe('editing backends at run time', () => {
  it('adds a backend: written to the file, started, its tools reach connected clients', async () => {
    const path = await withConfigFile({ mcpServers: { toy: nodeBackend(TOY) }, globalShortcut: 'keep me' });
    await using data = await tempDir('cortex-memory-');
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { configPath: path });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    const toyPid = gw.gateway.backendStatuses()[0]!.pid;
    await using session = await connectClient(gw.mcpUrl);
    let changed = false;
    session.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed = true));

    const res = await fetch(new URL('/api/backends/memory', gw.mcpUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(memoryBackend(join(data.path, 'memory.jsonl'))),
    });
    expect(res.status).toBe(200);
    await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'memory')?.state === 'ready',
      'memory ready',
    );
    await waitFor(() => changed, 'tools/list_changed');
    expect((await session.client.listTools()).tools.map((t) => t.name)).toContain('memory__read_graph');
    expect(gw.gateway.backendStatuses().find((s) => s.name === 'toy')!.pid).toBe(toyPid);

    const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(saved.mcpServers as object)).toEqual(['toy', 'memory']);
    expect(saved.globalShortcut).toBe('keep me');
  });

  it('removes a backend: its child stops and its tools vanish', async () => {
    const path = await withConfigFile({ mcpServers: { toy: nodeBackend(TOY), spare: nodeBackend(TOY) } });
    await using gw = await startGateway({ toy: nodeBackend(TOY), spare: nodeBackend(TOY) }, {}, { configPath: path });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'ready');
    const sparePid = gw.gateway.backendStatuses().find((s) => s.name === 'spare')!.pid!;
    const res = await fetch(new URL('/api/backends/spare', gw.mcpUrl), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    expect(res.status).toBe(200);
    expect(gw.gateway.backendStatuses().map((s) => s.name)).toEqual(['toy']);
    await waitFor(() => !isAlive(sparePid), 'spare child gone', 6_000);
    await using session = await connectClient(gw.mcpUrl);
    await waitFor(
      async () => !(await session.client.listTools()).tools.some((t) => t.name.startsWith('spare__')),
      'spare tools gone',
    );
  });

  it('refuses an invalid backend naming the field, and leaves the file as it was', async () => {
    const path = await withConfigFile({ mcpServers: { toy: nodeBackend(TOY) } });
    const before = await readFile(path, 'utf8');
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { configPath: path });
    const res = await fetch(new URL('/api/backends/web', gw.mcpUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'http', url: 'not a url' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string; message: string } };
    expect(body.error.field).toBe('mcpServers.web.url');
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(gw.gateway.backendStatuses().map((s) => s.name)).toEqual(['toy']);
  });

  it('restarts one backend on request', async () => {
    const path = await withConfigFile({ mcpServers: { toy: nodeBackend(TOY) } });
    await using gw = await startGateway({ toy: nodeBackend(TOY) }, {}, { configPath: path });
    const first = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'ready');
    const res = await fetch(new URL('/api/backends/toy/restart', gw.mcpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    expect(res.status).toBe(200);
    const again = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.state === 'ready' && s.pid !== first.pid),
      'restarted',
    );
    expect(again.restartCount).toBe(1);
  });
});
