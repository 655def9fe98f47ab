import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { grantOf, normalizeScopes, requiredScope, supportedScopes } from './scopes.js';

const read = { backendId: 'gh', access: 'read' as const };
const write = { backendId: 'gh', access: 'write' as const };

describe('scopes', () => {
  it('lists read and write scopes of every enabled backend from the configuration', () => {
    const config = parseConfig({
      mcpServers: { gh: { command: 'x' }, 'my fs': { command: 'y' }, off: { command: 'z', enabled: false } },
    });
    expect(supportedScopes(config)).toEqual(['mcp:gh:read', 'mcp:gh:write', 'mcp:my_fs:read', 'mcp:my_fs:write']);
  });

  it('requires read for read-only tools and write for the rest', () => {
    expect(requiredScope(read)).toBe('mcp:gh:read');
    expect(requiredScope(write)).toBe('mcp:gh:write');
  });

  it('lets read grant only read-only tools', () => {
    const grant = grantOf(['mcp:gh:read']);
    expect(grant.allowsTool(read)).toBe(true);
    expect(grant.allowsTool(write)).toBe(false);
    expect(grant.allowsRead('gh')).toBe(true);
  });

  it('lets write imply read', () => {
    const grant = grantOf(['mcp:gh:write']);
    expect(grant.allowsTool(read)).toBe(true);
    expect(grant.allowsTool(write)).toBe(true);
  });

  it('grants nothing of another backend', () => {
    const grant = grantOf(['mcp:other:write']);
    expect(grant.allowsTool(read)).toBe(false);
    expect(grant.allowsRead('gh')).toBe(false);
  });

  it('gives the owner wildcard everything', () => {
    expect(grantOf(['*']).allowsTool(write)).toBe(true);
  });

  it('keys equal grants equally whatever the order', () => {
    expect(grantOf(['b', 'a']).key).toBe(grantOf(['a', 'b', 'a']).key);
  });

  it('keeps known requested scopes and drops odd ones', () => {
    const supported = ['mcp:gh:read', 'mcp:gh:write'];
    expect(normalizeScopes('openid mcp:gh:write,claudeai  mcp:gh:write *', supported)).toEqual(['mcp:gh:write']);
    expect(normalizeScopes(undefined, supported)).toEqual([]);
  });
});
