import { describe, expect, it } from 'vitest';
import type { RefreshFamily } from '../store.js';
import { T0 } from '../testing.js';
import { familyIdOf, familyIssuedTo, familyLive, familyNotExpired } from './refresh-family.js';

const family: RefreshFamily = {
  id: 'fam',
  clientId: 'client-1',
  subject: 'owner',
  scopes: ['mcp:toy:read'],
  resource: 'http://127.0.0.1:1/mcp',
  currentHash: 'h',
  createdAt: T0,
  lastUsedAt: T0,
  expiresAt: T0 + 1000,
};

describe('refresh family checks', () => {
  it('familyLive refuses an unknown or revoked family', () => {
    expect(familyLive(family)).toBe(family);
    expect(() => familyLive(undefined)).toThrow('Unknown or revoked refresh token');
    expect(() => familyLive({ ...family, revokedAt: T0 })).toThrow('Unknown or revoked refresh token');
  });

  it('familyIssuedTo refuses another client', () => {
    expect(familyIssuedTo(family, 'client-1')).toBeUndefined();
    expect(familyIssuedTo(family, 'client-2')?.code).toBe('invalid_grant');
  });

  it('familyNotExpired refuses a family past its expiry', () => {
    expect(familyNotExpired(family, T0 + 1000)).toBeUndefined();
    expect(familyNotExpired(family, T0 + 1001)?.description).toBe('Refresh token expired');
  });

  it('familyIdOf reads the id before the first dot', () => {
    expect(familyIdOf('fam.secret')).toBe('fam');
    expect(familyIdOf('')).toBe('');
  });
});
