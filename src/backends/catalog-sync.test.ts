import { ProtocolError, ProtocolErrorCode, type Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.js';
import { CatalogSync } from './catalog-sync.js';
import type { BackendCatalog } from './types.js';

type Pages = Record<string, Array<Record<string, unknown>> | 'missing'>;

/** A client port answering list requests from pages (`<method>` or `<method>@<cursor>`), counting calls. */
function fakeClient(pages: Pages, capabilities: Record<string, object> = { tools: {}, prompts: {}, resources: {} }) {
  const calls: string[] = [];
  const client = {
    getServerCapabilities: () => capabilities,
    request: async (request: { method: string; params?: { cursor?: string } }) => {
      const key = request.params?.cursor ? `${request.method}@${request.params.cursor}` : request.method;
      calls.push(key);
      const page = pages[key];
      if (page === 'missing') throw new ProtocolError(ProtocolErrorCode.MethodNotFound, 'Method not found');
      return page?.[0] ?? {};
    },
  };
  return { client: client as unknown as Client, calls };
}

const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });

function sync(client: Client, changed: (catalog: BackendCatalog) => void = () => {}) {
  return new CatalogSync({ log: silentLogger, timeoutMs: () => 1_000, client: () => client, changed });
}

describe('CatalogSync', () => {
  it('follows nextCursor to the end of a list', async () => {
    const { client } = fakeClient({
      'tools/list': [{ tools: [tool('a')], nextCursor: 'p2' }],
      'tools/list@p2': [{ tools: [tool('b')], nextCursor: 'p3' }],
      'tools/list@p3': [{ tools: [tool('c')] }],
      'prompts/list': [{ prompts: [] }],
      'resources/list': [{ resources: [] }],
      'resources/templates/list': [{ resourceTemplates: [] }],
    });
    const catalog = await sync(client).load(client);
    expect(catalog.tools.map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('stops when a server repeats the cursor it was given', async () => {
    const { client, calls } = fakeClient(
      {
        'tools/list': [{ tools: [tool('a')], nextCursor: 'same' }],
        'tools/list@same': [{ tools: [tool('b')], nextCursor: 'same' }],
      },
      { tools: {} },
    );
    const catalog = await sync(client).load(client);
    expect(catalog.tools.map((t) => t.name)).toEqual(['a', 'b']);
    expect(calls).toEqual(['tools/list', 'tools/list@same']);
  });

  it('counts an optional list the server does not implement (-32601) as empty', async () => {
    const { client } = fakeClient({
      'tools/list': [{ tools: [tool('a')] }],
      'prompts/list': 'missing',
      'resources/list': [{ resources: [] }],
      'resources/templates/list': 'missing',
    });
    const catalog = await sync(client).load(client);
    expect(catalog).toEqual({ tools: [tool('a')], prompts: [], resources: [], resourceTemplates: [] });
  });

  it('asks only for the lists the server declares', async () => {
    const { client, calls } = fakeClient({ 'tools/list': [{ tools: [] }] }, { tools: {} });
    await sync(client).load(client);
    expect(calls).toEqual(['tools/list']);
  });

  it('replaces one list on list_changed and coalesces a burst into one more fetch', async () => {
    const pages: Pages = { 'tools/list': [{ tools: [tool('a')] }] };
    const { client, calls } = fakeClient(pages, { tools: {} });
    const seen: string[][] = [];
    const catalogSync = sync(client, (catalog) => seen.push(catalog.tools.map((t) => t.name)));
    await catalogSync.load(client);
    pages['tools/list'] = [{ tools: [tool('a'), tool('b')] }];
    await Promise.all([catalogSync.refresh('tools'), catalogSync.refresh('tools'), catalogSync.refresh('tools')]);
    // One fetch for the first notification, one more for all that came while it ran.
    expect(calls).toEqual(['tools/list', 'tools/list', 'tools/list']);
    expect(catalogSync.catalog.tools.map((t) => t.name)).toEqual(['a', 'b']);
    expect(seen.at(-1)).toEqual(['a', 'b']);
  });
});
