import { describe, expect, it } from 'vitest';
import { LOCAL, REDIRECT, T0 } from '../testing.js';
import type { PendingAuthorization } from './approvals.js';
import { UNLISTED_TTL_MS, UnlistedRequests } from './unlisted.js';

const request: PendingAuthorization = {
  id: 'req-1',
  csrf: 'csrf',
  clientId: 'client-1',
  redirectUri: REDIRECT,
  state: 's',
  codeChallenge: 'c',
  resource: LOCAL.resource,
  issuer: LOCAL.issuer,
  requestedScopes: [],
  createdAt: T0,
  mode: 'page',
};

describe('unlisted requests', () => {
  it('opens what it sealed', () => {
    const unlisted = new UnlistedRequests();
    const sealed = unlisted.seal(request);
    expect(UnlistedRequests.isSealed(sealed)).toBe(true);
    expect(unlisted.open(sealed, T0)).toEqual(request);
  });

  it('refuses a seal of another process and a tampered payload', () => {
    const sealed = new UnlistedRequests().seal(request);
    expect(new UnlistedRequests().open(sealed, T0)).toBeUndefined();
    const unlisted = new UnlistedRequests();
    const [u, , mac] = unlisted.seal(request).split('.');
    const forged = Buffer.from(JSON.stringify({ ...request, clientId: 'evil' })).toString('base64url');
    expect(unlisted.open(`${u}.${forged}.${mac}`, T0)).toBeUndefined();
  });

  it('refuses an expired one, and one decided already (until its undo)', () => {
    const unlisted = new UnlistedRequests();
    const sealed = unlisted.seal(request);
    expect(unlisted.open(sealed, T0 + UNLISTED_TTL_MS + 1)).toBeUndefined();
    const undo = unlisted.decide(request);
    expect(unlisted.open(sealed, T0)).toBeUndefined();
    undo();
    expect(unlisted.open(sealed, T0)).toEqual(request);
  });
});
