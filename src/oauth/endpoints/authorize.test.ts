import { describe, expect, it } from 'vitest';
import { CHALLENGE, LOCAL, REDIRECT, recordingPrompter, storeClient, T0, testContext } from '../testing.js';
import type { AuthorizationServerOptions } from '../context.js';
import { ApprovalQueue, LISTED_CAPS } from './approvals.js';
import { createAuthorizeEndpoint } from './authorize.js';
import { UnlistedRequests } from './unlisted.js';

const query = (overrides: Record<string, string | undefined> = {}) => ({
  client_id: 'client-1',
  redirect_uri: REDIRECT,
  response_type: 'code',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  state: 'st',
  scope: 'mcp:toy:write',
  ...overrides,
});

async function endpoint(overrides: Partial<AuthorizationServerOptions> = {}) {
  const { prompter, seen } = recordingPrompter(overrides.prompter ? undefined : 'page');
  const test = await testContext({ prompter, ...overrides });
  await storeClient(test.store);
  const approvals = new ApprovalQueue(test.ctx);
  return { ...test, seen, approvals, authorize: createAuthorizeEndpoint(test.ctx, approvals, new UnlistedRequests()) };
}

describe('authorize endpoint', () => {
  it('shows an error, never redirects, for an unknown client (RFC 6749 §4.1.2.1)', async () => {
    const { authorize } = await endpoint();
    expect(await authorize(query({ client_id: 'nobody' }), LOCAL)).toMatchObject({
      kind: 'error-page',
      title: 'Unknown application',
    });
  });

  it('shows an error for a redirect URI the client did not register', async () => {
    const { authorize } = await endpoint();
    expect(await authorize(query({ redirect_uri: 'https://evil.example/cb' }), LOCAL)).toMatchObject({
      kind: 'error-page',
      title: 'Invalid redirect',
    });
  });

  it.each([
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ resource: 'https://elsewhere.example/mcp' }, 'invalid_target'],
  ])('redirects a failed check %o back with %s, the state and iss (RFC 9207)', async (overrides, error) => {
    const { authorize, approvals } = await endpoint();
    const outcome = await authorize(query(overrides), LOCAL);
    expect(outcome.kind).toBe('redirect');
    const location = new URL((outcome as { location: string }).location);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('st');
    expect(location.searchParams.get('iss')).toBe(LOCAL.issuer);
    expect(approvals.list()).toEqual([]);
  });

  it('lists a good request for the owner with read access suggested, and shows its code on the page', async () => {
    const { authorize, approvals, seen } = await endpoint();
    const outcome = await authorize(query(), LOCAL, { address: '127.0.0.1' });
    const [listed] = approvals.list();
    expect(listed).toMatchObject({
      requestedScopes: ['mcp:toy:write'],
      suggestedScopes: ['mcp:toy:read'],
      createdAt: T0,
      remoteAddress: '127.0.0.1',
    });
    expect(outcome).toMatchObject({ kind: 'page', status: 200 });
    expect((outcome as { html: string }).html).toContain(listed!.userCode);
    expect(seen.requested).toBe(1);
  });

  it('suggests the remembered grant to a returning client', async () => {
    const { authorize, approvals, store } = await endpoint();
    await store.update((state) => {
      state.consents['client-1'] = { clientId: 'client-1', scopes: ['mcp:toy:write', 'mcp:gone:read'], decidedAt: T0 };
    });
    await authorize(query({ scope: 'mcp:toy:read' }), LOCAL);
    expect(approvals.list()[0]).toMatchObject({ suggestedScopes: ['mcp:toy:write'], returning: true });
  });

  it('over the caps, serves an unlisted page where the page may decide, and refuses (429) where only the list may', async () => {
    const page = await endpoint();
    for (let i = 0; i < LISTED_CAPS.perClient; i++) await page.authorize(query(), LOCAL);
    const unlisted = await page.authorize(query(), LOCAL);
    expect(unlisted).toMatchObject({ kind: 'page' });
    expect((unlisted as { html: string }).html).toContain('u.');
    expect(page.approvals.list()).toHaveLength(LISTED_CAPS.perClient);

    const owner = await endpoint({ prompter: { mode: () => 'owner' } });
    for (let i = 0; i < LISTED_CAPS.perClient; i++) await owner.authorize(query(), LOCAL);
    expect(await owner.authorize(query(), LOCAL)).toMatchObject({ status: 429, code: 'too_many_waiting' });
  });
});
