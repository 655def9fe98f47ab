import { describe, expect, it } from 'vitest';
import { TOY_GROUP } from '../testing.js';
import { chosenScopes, narrowedScopes, personalTokenScopes, readOnlyDefault, requestedScopes } from './scope.js';

const SUPPORTED = ['mcp:toy:read', 'mcp:toy:write'];

describe('scope rules', () => {
  it('requestedScopes keeps the served scopes once each, dropping the rest (claude.ai adds its own)', () => {
    expect(requestedScopes('claudeai mcp:toy:write,mcp:toy:write openid', SUPPORTED)).toEqual(['mcp:toy:write']);
    expect(requestedScopes(undefined, SUPPORTED)).toEqual([]);
  });

  it('chosenScopes keeps strings the gateway serves, once each', () => {
    expect(chosenScopes(['mcp:toy:read', 'mcp:toy:read', 'mcp:gone:read', 7, '*'], SUPPORTED)).toEqual([
      'mcp:toy:read',
    ]);
  });

  describe('narrowedScopes (RFC 6749 §6)', () => {
    it('keeps the grant when the refresh names no scope', () => {
      expect(narrowedScopes(undefined, ['mcp:toy:read'])).toEqual(['mcp:toy:read']);
    });

    it('narrows to a subset', () => {
      expect(narrowedScopes('mcp:toy:read', SUPPORTED)).toEqual(['mcp:toy:read']);
    });

    it('refuses a served scope outside the grant as invalid_scope', () => {
      expect(() => narrowedScopes('mcp:toy:read mcp:toy:write', ['mcp:toy:read'])).toThrow(
        'Requested scope exceeds the grant',
      );
    });

    it('refuses a scope nobody serves that the grant lacks (openid) as invalid_scope, unlike authorize', () => {
      expect(() => narrowedScopes('mcp:toy:read openid', ['mcp:toy:read'])).toThrow(
        'Requested scope exceeds the grant',
      );
    });

    it('keeps a granted scope whose server is no longer served', () => {
      expect(narrowedScopes('mcp:old:read', ['mcp:old:read'])).toEqual(['mcp:old:read']);
    });
  });

  it('personalTokenScopes accepts served scopes and the wildcard, and names the unknown ones', () => {
    expect(personalTokenScopes(['*', 'mcp:toy:read'], SUPPORTED)).toEqual(['*', 'mcp:toy:read']);
    expect(() => personalTokenScopes(['mcp:x:read', 'mcp:y:write'], SUPPORTED)).toThrow(
      'Unknown scope: mcp:x:read, mcp:y:write',
    );
  });

  describe('readOnlyDefault', () => {
    it('turns a write scope asked for into its server’s read scope', () => {
      expect(readOnlyDefault(['mcp:toy:write'], [TOY_GROUP], SUPPORTED)).toEqual(['mcp:toy:read']);
    });

    it('gives every server’s read scope to a client that names none', () => {
      expect(readOnlyDefault([], [TOY_GROUP], SUPPORTED)).toEqual(['mcp:toy:read']);
    });

    it('drops read scopes the gateway no longer serves', () => {
      expect(readOnlyDefault([], [TOY_GROUP], [])).toEqual([]);
    });
  });
});
