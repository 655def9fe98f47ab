import { describe, expect, it } from 'vitest';
import { redirectUriFor, redirectUriMatchesCode } from './redirect-uri.js';

const REGISTERED = 'http://127.0.0.1:5555/cb';

describe('redirectUriFor', () => {
  it('takes the one registered URI when the request names none (RFC 6749 §3.1.2.3)', () => {
    expect(redirectUriFor(undefined, { redirectUris: [REGISTERED] })).toBe(REGISTERED);
  });

  it('names none when the client registered several and the request names none', () => {
    expect(redirectUriFor(undefined, { redirectUris: [REGISTERED, 'https://app.example/cb'] })).toBeUndefined();
  });

  it('lets a loopback redirect change its port (RFC 8252 §7.3)', () => {
    expect(redirectUriFor('http://127.0.0.1:6000/cb', { redirectUris: [REGISTERED] })).toBe('http://127.0.0.1:6000/cb');
  });

  it('refuses a URI the client did not register', () => {
    expect(redirectUriFor('http://127.0.0.1:5555/other', { redirectUris: [REGISTERED] })).toBeUndefined();
    expect(redirectUriFor('https://evil.example/cb', { redirectUris: [REGISTERED] })).toBeUndefined();
  });
});

describe('redirectUriMatchesCode (RFC 6749 §4.1.3)', () => {
  it('accepts the same URI, or none', () => {
    expect(redirectUriMatchesCode(REGISTERED, REGISTERED)).toBeUndefined();
    expect(redirectUriMatchesCode(undefined, REGISTERED)).toBeUndefined();
  });

  it('refuses another URI, even one differing only in its port', () => {
    expect(redirectUriMatchesCode('http://127.0.0.1:6000/cb', REGISTERED)?.code).toBe('invalid_grant');
  });
});
