import { describe, expect, it } from 'vitest';
import { buildCatalog, type CatalogSource } from './catalog.js';
import { createScopePolicy, type ScopeRefusal } from './scope-policy.js';

function source(id: string): CatalogSource {
  return {
    id,
    name: id,
    overrides: {},
    catalog: {
      tools: [
        { name: 'look', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
        { name: 'change', inputSchema: { type: 'object' } },
      ],
      prompts: [{ name: 'greet' }],
      resources: [],
      resourceTemplates: [],
    },
  };
}

const catalog = buildCatalog([source('a'), source('b')]);
const reader = { clientId: 'c1', clientName: 'Reader', scopes: ['mcp:a:read'] };
const call = (name: string, id: unknown = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });

function policy() {
  const refusals: ScopeRefusal[] = [];
  const scopeNeeded = createScopePolicy({ catalog: () => catalog, refused: (r) => refusals.push(r) });
  return { scopeNeeded, refusals };
}

describe('the scope policy in front of /mcp', () => {
  it('passes a request the grant covers and records nothing', () => {
    const { scopeNeeded, refusals } = policy();
    expect(scopeNeeded(reader, call('a__look'))).toBeUndefined();
    expect(refusals).toEqual([]);
  });

  it('names the scope a tool call outside the grant needs, and records the refusal with its caller', () => {
    const { scopeNeeded, refusals } = policy();
    expect(scopeNeeded(reader, call('a__change'))).toBe('mcp:a:write');
    expect(scopeNeeded(reader, call('b__look'))).toBe('mcp:b:read');
    expect(refusals).toEqual([
      { caller: reader, backend: 'a', tool: 'a__change', needed: 'mcp:a:write' },
      { caller: reader, backend: 'b', tool: 'b__look', needed: 'mcp:b:read' },
    ]);
  });

  it('refuses a prompt outside the grant without recording it as a tool call', () => {
    const { scopeNeeded, refusals } = policy();
    const get = { jsonrpc: '2.0', id: 2, method: 'prompts/get', params: { name: 'b__greet' } };
    expect(scopeNeeded(reader, get)).toBe('mcp:b:read');
    expect(refusals).toEqual([]);
  });

  it('judges a batch by its first request outside the grant', () => {
    const { scopeNeeded, refusals } = policy();
    expect(scopeNeeded(reader, [call('a__look', 1), call('b__change', 2), call('a__change', 3)])).toBe('mcp:b:write');
    expect(refusals.map((r) => r.tool)).toEqual(['b__change']);
  });

  it('does not gate notifications (no id), methods the table lacks, or malformed messages', () => {
    const { scopeNeeded, refusals } = policy();
    const { id: _id, ...notification } = call('b__change');
    expect(scopeNeeded(reader, notification)).toBeUndefined();
    expect(scopeNeeded(reader, { jsonrpc: '2.0', id: 3, method: 'vendor/anything' })).toBeUndefined();
    expect(scopeNeeded(reader, [null, 42, 'text', { id: 4 }, { id: 5, method: 7 }])).toBeUndefined();
    expect(scopeNeeded(reader, { jsonrpc: '2.0', id: 6, method: 'tools/call', params: 'b__change' })).toBeUndefined();
    expect(refusals).toEqual([]);
  });

  it('grants everything to the owner wildcard and reads the catalog as it is at each request', () => {
    let current = buildCatalog([source('a')]);
    const scopeNeeded = createScopePolicy({ catalog: () => current });
    const owner = { clientId: 'pat', scopes: ['*'] };
    expect(scopeNeeded(owner, call('b__change'))).toBeUndefined();
    // Unknown to the catalog: the session answers "unknown tool", the grant has nothing to say.
    expect(scopeNeeded(reader, call('b__change'))).toBeUndefined();
    current = catalog;
    expect(scopeNeeded(reader, call('b__change'))).toBe('mcp:b:write');
  });
});
