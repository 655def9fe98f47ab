import { describe, expect, it } from 'vitest';
import { grantFor, type GrantHandler } from './registry.js';

const handler: GrantHandler = async () => ({ access_token: 'a', token_type: 'Bearer', expires_in: 1, scope: '' });

describe('grant registry', () => {
  it('answers a grant type with its handler', () => {
    expect(grantFor(new Map([['authorization_code', handler]]), 'authorization_code')).toBe(handler);
  });

  it('answers any other grant type, or none, with unsupported_grant_type (RFC 6749 §5.2)', () => {
    const registry = new Map([['authorization_code', handler]]);
    expect(() => grantFor(registry, 'password')).toThrow(
      expect.objectContaining({ code: 'unsupported_grant_type', description: 'grant_type password is not supported' }),
    );
    expect(() => grantFor(registry, undefined)).toThrow('grant_type (missing) is not supported');
    expect(() => grantFor(registry, 'toString')).toThrow(expect.objectContaining({ code: 'unsupported_grant_type' }));
  });
});
