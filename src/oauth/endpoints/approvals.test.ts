import { describe, expect, it } from 'vitest';
import { LOCAL, REDIRECT, recordingPrompter, storeClient, T0, testContext } from '../testing.js';
import { ApprovalQueue, LISTED_CAPS, PENDING_TTL_MS, type WaitingRequest } from './approvals.js';

let n = 0;
const request = (overrides: Partial<WaitingRequest> = {}): Omit<WaitingRequest, 'userCode'> => ({
  id: `req-${++n}`,
  csrf: 'csrf',
  clientId: 'client-1',
  redirectUri: REDIRECT,
  state: undefined,
  codeChallenge: 'c',
  resource: LOCAL.resource,
  issuer: LOCAL.issuer,
  requestedScopes: ['mcp:toy:write'],
  createdAt: T0,
  mode: 'owner',
  listener: 'local',
  requester: { address: '127.0.0.1', userAgent: 'UA' },
  suggestedScopes: ['mcp:toy:read'],
  returning: false,
  ...overrides,
});

async function queue() {
  const { prompter, seen } = recordingPrompter('owner');
  const test = await testContext({ prompter });
  await storeClient(test.store);
  return { ...test, seen, approvals: new ApprovalQueue(test.ctx) };
}

describe('approval queue', () => {
  it('lists a request with a fresh code, tells the prompter, and reports the change', async () => {
    const { approvals, seen } = await queue();
    const waiting = approvals.add(request());
    expect(waiting.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(seen).toEqual({ requested: 1, changed: 1 });
    expect(approvals.list()).toEqual([
      expect.objectContaining({
        id: waiting.id,
        userCode: waiting.userCode,
        clientName: 'Test App',
        clientSource: 'dcr',
        redirectHost: '127.0.0.1:5555',
        remoteAddress: '127.0.0.1',
        userAgent: 'UA',
      }),
    ]);
  });

  it('the owner decides once; the decision leaves the list and is reported', async () => {
    const { approvals, seen } = await queue();
    const waiting = approvals.add(request());
    expect(approvals.decide(waiting.id, true)).toBe(true);
    expect(approvals.get(waiting.id)?.decision).toEqual({ approve: true, scopes: ['mcp:toy:read'] });
    expect(approvals.decide(waiting.id, false)).toBe(false);
    expect(approvals.list()).toEqual([]);
    expect(seen.changed).toBe(2);
  });

  it('expires a request after its time on the frozen clock, and reports it', async () => {
    const { approvals, clock, seen } = await queue();
    approvals.add(request());
    clock.advance(PENDING_TTL_MS);
    expect(approvals.list()).toHaveLength(1);
    clock.advance(1);
    expect(approvals.list()).toEqual([]);
    expect(seen.changed).toBe(2);
  });

  it('take removes a request and its restore puts it back', async () => {
    const { approvals } = await queue();
    const waiting = approvals.add(request());
    const restore = approvals.take(waiting);
    expect(approvals.get(waiting.id)).toBeUndefined();
    restore();
    expect(approvals.get(waiting.id)).toBe(waiting);
  });

  it('is full per client, per address and in all', async () => {
    const { approvals } = await queue();
    for (let i = 0; i < LISTED_CAPS.perClient; i++) approvals.add(request({ requester: { address: `10.0.0.${i}` } }));
    expect(approvals.full('client-1', '10.9.9.9')).toBe(true);
    expect(approvals.full('client-2', '10.9.9.9')).toBe(false);
    for (let i = 0; i < LISTED_CAPS.perAddress; i++)
      approvals.add(request({ clientId: `c${i}`, requester: { address: '10.1.1.1' } }));
    expect(approvals.full('client-3', '10.1.1.1')).toBe(true);
    for (let i = 0; i < LISTED_CAPS.total; i++) approvals.add(request({ clientId: `d${i}`, requester: {} }));
    expect(approvals.full('fresh', undefined)).toBe(true);
  });
});
