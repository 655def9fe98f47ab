import { describe, expect, it } from 'vitest';
import { CODE_TTL_MS, CodeBook } from './codes.js';
import { T0 } from './testing.js';

const grant = { clientId: 'c', redirectUri: 'r', codeChallenge: 'x', resource: 'res', scopes: [], subject: 'owner' };

describe('code book', () => {
  it('finds a code by its value and keeps only its hash', () => {
    const codes = new CodeBook();
    const code = codes.issue(grant, T0);
    expect(codes.find(code)).toMatchObject({ clientId: 'c', expiresAt: T0 + CODE_TTL_MS, replayed: false });
    expect(codes.find(undefined)).toBeUndefined();
    expect(codes.find('other')).toBeUndefined();
  });

  it('forgets a code ten lifetimes after it expired, so a late replay is still seen until then', () => {
    const codes = new CodeBook();
    const code = codes.issue(grant, T0);
    codes.sweep(T0 + 11 * CODE_TTL_MS);
    expect(codes.find(code)).toBeDefined();
    codes.sweep(T0 + 11 * CODE_TTL_MS + 1);
    expect(codes.size).toBe(0);
  });
});
