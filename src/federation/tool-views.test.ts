import { describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import { buildCatalog } from './catalog.js';
import { applyToolOverride, toolViews, type ToolSource } from './tool-views.js';

const tool = (name: string, readOnlyHint?: boolean): Tool => ({
  name,
  inputSchema: { type: 'object' },
  ...(readOnlyHint === undefined ? {} : { annotations: { readOnlyHint } }),
});

function source(overrides: ToolSource['overrides'] = {}, enabled = true): ToolSource {
  return {
    name: 'files',
    id: 'files',
    enabled,
    overrides,
    catalog: {
      tools: [tool('read', true), tool('write', false), tool('plain')],
      prompts: [],
      resources: [],
      resourceTemplates: [],
    },
  };
}

const views = (s: ToolSource) => toolViews([s], buildCatalog([s]));

describe('toolViews', () => {
  it('classifies from annotations, says where the class comes from, and names the scope', () => {
    expect(views(source()).map((v) => [v.original, v.access, v.accessSource, v.scope, v.name])).toEqual([
      ['read', 'read', 'annotation', 'mcp:files:read', 'files__read'],
      ['write', 'write', 'annotation', 'mcp:files:write', 'files__write'],
      ['plain', 'write', 'default', 'mcp:files:write', 'files__plain'],
    ]);
  });

  it('lists a disabled tool without a federated name, and an override as the source of its class', () => {
    const list = views(source({ write: { enabled: false }, plain: { access: 'read' } }));
    expect(list.find((v) => v.original === 'write')).toMatchObject({ enabled: false });
    expect(list.find((v) => v.original === 'write')!.name).toBeUndefined();
    expect(list.find((v) => v.original === 'plain')).toMatchObject({ access: 'read', accessSource: 'override' });
  });

  it('leaves out disabled backends', () => {
    expect(views(source({}, false))).toEqual([]);
  });
});

describe('applyToolOverride', () => {
  it('writes only what differs from the defaults', () => {
    expect(applyToolOverride(undefined, 'a', { enabled: false })).toEqual({ a: { enabled: false } });
    expect(applyToolOverride({ a: { enabled: false } }, 'a', { access: 'read' })).toEqual({
      a: { enabled: false, access: 'read' },
    });
  });

  it('removes the entry when a tool returns to its defaults, keeping the others', () => {
    const current = { a: { enabled: false }, b: { access: 'write' as const } };
    expect(applyToolOverride(current, 'a', { enabled: true })).toEqual({ b: { access: 'write' } });
    expect(applyToolOverride(current, 'b', { access: null })).toEqual({ a: { enabled: false } });
  });
});
