import { describe, expect, it } from 'vitest';
import { CHALLENGE, VERIFIER } from '../testing.js';
import { codeChallengeValid, codeVerifierMatches } from './pkce.js';

describe('codeChallengeValid (RFC 7636 §4.3)', () => {
  it('accepts an S256 challenge', () => {
    expect(codeChallengeValid(CHALLENGE, 'S256')).toBeUndefined();
  });

  it('requires a challenge', () => {
    expect(codeChallengeValid(undefined, 'S256')).toMatchObject({
      code: 'invalid_request',
      description: expect.stringContaining('missing'),
    });
  });

  it('refuses the plain method and a missing one', () => {
    expect(codeChallengeValid(CHALLENGE, 'plain')?.code).toBe('invalid_request');
    expect(codeChallengeValid(CHALLENGE, undefined)?.code).toBe('invalid_request');
  });

  it('refuses a challenge that is no SHA-256 in base64url', () => {
    expect(codeChallengeValid('short', 'S256')?.description).toBe('code_challenge is not a S256 challenge');
    expect(codeChallengeValid(`${CHALLENGE.slice(0, 42)}=`, 'S256')?.code).toBe('invalid_request');
  });
});

describe('codeVerifierMatches (RFC 7636 §4.6)', () => {
  it('accepts the verifier of the challenge', () => {
    expect(codeVerifierMatches(VERIFIER, CHALLENGE)).toBeUndefined();
  });

  it('refuses another verifier', () => {
    expect(codeVerifierMatches('a'.repeat(43), CHALLENGE)).toMatchObject({
      code: 'invalid_grant',
      description: 'PKCE verification failed',
    });
  });

  it('refuses a missing, short, long or ill-charactered verifier before hashing it', () => {
    for (const verifier of [undefined, '', 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}!`]) {
      expect(codeVerifierMatches(verifier, CHALLENGE)?.description).toBe('code_verifier is missing or malformed');
    }
  });
});
