import { describe, expect, it } from 'vitest';
import { sha256 } from '../wire.js';
import { clientCredentials, clientKnown, clientSecretMatches, parseBasic } from './client-auth.js';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('client authentication checks (RFC 6749 §2.3)', () => {
  it('reads the form body without a Basic header', () => {
    expect(clientCredentials({ client_id: 'a', client_secret: 's' }, undefined)).toEqual({
      clientId: 'a',
      secret: 's',
    });
  });

  it('prefers Basic, whatever the case of its scheme (RFC 7235 §2.1), form-decoding both parts', () => {
    expect(clientCredentials({ client_id: 'other' }, basic('a b', 's:1'))).toEqual({ clientId: 'a b', secret: 's:1' });
    expect(clientCredentials({}, basic('a', 's').replace('Basic', 'bAsIc'))).toEqual({ clientId: 'a', secret: 's' });
  });

  it('refuses malformed Basic credentials as invalid_client', () => {
    for (const header of ['Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`]) {
      expect(() => clientCredentials({}, header)).toThrow('Malformed Basic credentials');
    }
    expect(parseBasic(Buffer.from('%zz:s').toString('base64'))).toBeUndefined();
  });

  it('clientKnown refuses an unknown client', () => {
    expect(() => clientKnown(undefined)).toThrow('Unknown client');
  });

  it('clientSecretMatches lets a public client through and holds a confidential one to its secret', () => {
    expect(clientSecretMatches({}, undefined)).toBeUndefined();
    const confidential = { clientSecretHash: sha256('right') };
    expect(clientSecretMatches(confidential, 'right')).toBeUndefined();
    expect(clientSecretMatches(confidential, 'wrong')?.code).toBe('invalid_client');
    expect(clientSecretMatches(confidential, undefined)?.status).toBe(401);
  });
});
