import { describe, expect, it } from 'vitest';
import {
  applicationType,
  REGISTRATIONS_PER_MINUTE,
  registeredRedirectUris,
  registrationAllowed,
  registrationBody,
  tokenEndpointAuthMethod,
} from './registration.js';

describe('registration checks (RFC 7591)', () => {
  it('allows registrations up to the budget, then slow_down with 429', () => {
    expect(() => registrationAllowed(Array(REGISTRATIONS_PER_MINUTE - 1).fill(0))).not.toThrow();
    expect(() => registrationAllowed(Array(REGISTRATIONS_PER_MINUTE).fill(0))).toThrow(
      expect.objectContaining({ code: 'slow_down', status: 429 }),
    );
  });

  it('wants a JSON object', () => {
    for (const body of [null, [], 'x', 3]) {
      expect(() => registrationBody(body)).toThrow(expect.objectContaining({ code: 'invalid_client_metadata' }));
    }
    expect(registrationBody({ a: 1 })).toEqual({ a: 1 });
  });

  it('refuses redirect URIs a browser must not be sent to', () => {
    expect(registeredRedirectUris(['http://127.0.0.1:1/cb'])).toEqual(['http://127.0.0.1:1/cb']);
    expect(() => registeredRedirectUris(['javascript:alert(1)'])).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri' }),
    );
  });

  it('defaults the token endpoint method to none and refuses ones it does not offer', () => {
    expect(tokenEndpointAuthMethod(undefined)).toBe('none');
    expect(tokenEndpointAuthMethod('client_secret_basic')).toBe('client_secret_basic');
    expect(() => tokenEndpointAuthMethod('private_key_jwt')).toThrow(
      'token_endpoint_auth_method private_key_jwt is not supported',
    );
  });

  it('takes application_type native or web (MCP 2026-07-28, SEP-837) and refuses anything else by name', () => {
    expect(applicationType(undefined)).toBeUndefined();
    expect(applicationType('native')).toBe('native');
    expect(applicationType('web')).toBe('web');
    expect(() => applicationType('desktop')).toThrow(
      expect.objectContaining({ code: 'invalid_client_metadata', description: expect.stringContaining('desktop') }),
    );
  });
});
