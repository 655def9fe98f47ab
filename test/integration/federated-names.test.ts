import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient, nodeBackend, startGateway, text, TOY, waitFor } from '../helpers/gateway.js';

// One backend's tool names can never take a name in another backend's namespace (issue 9,
// finding 17): backend names may not contain "__", and a tool part never starts with "_".

const toy = (name: string, tools: string[]) => nodeBackend(TOY, [], { TOY_NAME: name, TOY_TOOLS: tools.join(',') });

describe('federated names across backends', () => {
  it('routes each adversarial name to the backend that owns it', async () => {
    // "a" offers "_b" and "b__c"; "a_" offers "b". Before, "a" + "_b" and "a_" + "b" were both "a___b".
    await using gw = await startGateway({ a: toy('a', ['_b', 'b__c']), a_: toy('a_', ['b']) });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'both backends ready');
    await using session = await connectClient(gw.mcpUrl);
    const names = (await session.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['a__-b', 'a__b__c', 'a___b']));
    const call = async (name: string) => text(await session.client.callTool({ name, arguments: {} }));
    expect(await call('a___b')).toBe('a_:b');
    expect(await call('a__-b')).toBe('a:_b');
    expect(await call('a__b__c')).toBe('a:b__c');
  });

  it('reports the renamed tool in the catalog notes', async () => {
    await using gw = await startGateway({ a: toy('a', ['_b']) });
    await waitFor(() => gw.gateway.backendStatuses()[0]?.state === 'ready', 'a ready');
    const res = await fetch(new URL('/api/catalog/notes', gw.mcpUrl), {
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    const notes = ((await res.json()) as { value: Array<Record<string, string>> }).value;
    expect(notes).toContainEqual(
      expect.objectContaining({
        kind: 'tool',
        backend: 'a',
        original: '_b',
        name: 'a__-b',
        note: expect.stringMatching(/leading "_"/),
      }),
    );
  });

  it('refuses a backend named with "__" through the owner API, naming the field, and leaves the file alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-names-'));
    try {
      const configPath = join(dir, 'cortex.config.json');
      await writeFile(configPath, JSON.stringify({ mcpServers: {} }));
      await using gw = await startGateway({}, {}, { configPath, dataDir: dir });
      const res = await fetch(new URL('/api/backends/a__b', gw.mcpUrl), {
        method: 'PUT',
        headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(toy('a__b', ['c'])),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; field: string; message: string } };
      expect(body.error).toMatchObject({ code: 'invalid_argument', field: 'mcpServers.a__b' });
      expect(body.error.message).toContain('backend names may not contain "__"');
      expect(JSON.parse(await readFile(configPath, 'utf8'))).toEqual({ mcpServers: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start from a config file with such a name, naming it', async () => {
    await expect(startGateway({ a__b: toy('a__b', []) })).rejects.toMatchObject({
      code: 'config_invalid',
      field: 'mcpServers.a__b',
    });
  });
});
