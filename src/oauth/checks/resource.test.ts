import { describe, expect, it } from 'vitest';
import { resourceMatchesGrant, resourceServed } from './resource.js';

const MCP = 'http://127.0.0.1:1/mcp';

describe('resourceServed (RFC 8707 §2)', () => {
  it('takes the origin’s resource when none is named', () => {
    expect(resourceServed(undefined, MCP)).toBeUndefined();
  });

  it('accepts the served resource with or without a trailing slash', () => {
    expect(resourceServed(MCP, MCP)).toBeUndefined();
    expect(resourceServed(`${MCP}/`, MCP)).toBeUndefined();
  });

  it('refuses another resource as invalid_target, naming it', () => {
    expect(resourceServed('https://elsewhere.example/mcp', MCP)).toMatchObject({
      code: 'invalid_target',
      description: 'Unknown resource https://elsewhere.example/mcp',
    });
  });
});

describe('resourceMatchesGrant (RFC 8707 §2.2)', () => {
  it('accepts an absent resource and the grant’s own', () => {
    expect(resourceMatchesGrant(undefined, MCP)).toBeUndefined();
    expect(resourceMatchesGrant(`${MCP}/`, MCP)).toBeUndefined();
  });

  it('refuses another resource', () => {
    expect(resourceMatchesGrant('http://127.0.0.1:2/mcp', MCP)?.code).toBe('invalid_target');
  });
});
