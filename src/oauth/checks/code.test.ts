import { describe, expect, it } from 'vitest';
import { OAuthError } from '../errors.js';
import { T0 } from '../testing.js';
import { codeIssuedTo, codeKnown, codeNotExpired, codeReplayed } from './code.js';

const code = { clientId: 'client-1', expiresAt: T0 + 60_000 };

describe('authorization code checks', () => {
  it('codeKnown refuses a code the server does not hold', () => {
    expect(() => codeKnown(undefined)).toThrow(OAuthError);
    expect(codeKnown(code)).toBe(code);
  });

  it('codeNotExpired accepts a code up to its expiry and refuses it after', () => {
    expect(codeNotExpired(code, T0 + 60_000)).toBeUndefined();
    expect(codeNotExpired(code, T0 + 60_001)).toMatchObject({
      code: 'invalid_grant',
      description: 'Authorization code expired',
    });
  });

  it('codeIssuedTo refuses another client', () => {
    expect(codeIssuedTo(code, 'client-1')).toBeUndefined();
    expect(codeIssuedTo(code, 'client-2')?.code).toBe('invalid_grant');
  });

  it('codeReplayed says the issued tokens are revoked', () => {
    expect(codeReplayed()).toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('revoked') });
  });
});
