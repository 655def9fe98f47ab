import { describe, expect, it } from 'vitest';
import { CodeBook } from '../codes.js';
import { CHALLENGE, LOCAL, REDIRECT, recordingPrompter, storeClient, T0, testContext } from '../testing.js';
import { ApprovalQueue, LISTED_CAPS } from './approvals.js';
import { createAuthorizeEndpoint } from './authorize.js';
import { createConsentEndpoints } from './consent.js';
import { UnlistedRequests } from './unlisted.js';

const QUERY = {
  client_id: 'client-1',
  redirect_uri: REDIRECT,
  response_type: 'code',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  state: 'st',
  scope: 'mcp:toy:write',
};

async function setup(mode: 'page' | 'owner' = 'page') {
  const { prompter, seen } = recordingPrompter(mode);
  const test = await testContext({ prompter });
  await storeClient(test.store);
  const approvals = new ApprovalQueue(test.ctx);
  const unlisted = new UnlistedRequests();
  const codes = new CodeBook();
  const authorize = createAuthorizeEndpoint(test.ctx, approvals, unlisted);
  const consent = createConsentEndpoints(test.ctx, approvals, unlisted, codes);
  const ask = async () => {
    await authorize(QUERY, LOCAL);
    const listed = approvals.list().at(-1)!;
    return { listed, csrf: approvals.get(listed.id)!.csrf };
  };
  return { ...test, seen, approvals, codes, consent, ask };
}

const locationOf = (outcome: unknown) => new URL((outcome as { location: string }).location);

describe('consent endpoints', () => {
  it('refuses a decision without the owner present, whatever the form carries', async () => {
    const { consent, ask } = await setup();
    const { listed, csrf } = await ask();
    const outcome = await consent.decide({ request_id: listed.id, csrf, decision: 'approve' }, false);
    expect(outcome).toMatchObject({ status: 403, code: 'owner_required' });
  });

  it('refuses a form whose CSRF token is not the request’s', async () => {
    const { consent, ask } = await setup();
    const { listed } = await ask();
    expect(await consent.decide({ request_id: listed.id, csrf: 'x', decision: 'approve' }, true)).toMatchObject({
      code: 'invalid_form',
    });
  });

  it('refuses the page’s decision where only the approval list decides', async () => {
    const { consent, ask } = await setup('owner');
    const { listed, csrf } = await ask();
    expect(await consent.decide({ request_id: listed.id, csrf, decision: 'approve' }, true)).toMatchObject({
      code: 'approval_list_only',
    });
  });

  it('approves: records the consent with the served scopes, issues a code, and takes the request off the list', async () => {
    const { consent, ask, store, codes, approvals } = await setup();
    const { listed, csrf } = await ask();
    const outcome = await consent.decide(
      { request_id: listed.id, csrf, decision: 'approve', scope: ['mcp:toy:read', 'mcp:other:write'] },
      true,
    );
    const location = locationOf(outcome);
    expect(location.searchParams.get('iss')).toBe(LOCAL.issuer);
    expect(location.searchParams.get('state')).toBe('st');
    expect(codes.find(location.searchParams.get('code')!)).toMatchObject({
      scopes: ['mcp:toy:read'],
      expiresAt: T0 + 60_000,
    });
    expect(store.state.consents['client-1']).toMatchObject({ scopes: ['mcp:toy:read'] });
    expect(approvals.list()).toEqual([]);
    expect(await consent.decide({ request_id: listed.id, csrf, decision: 'approve' }, true)).toMatchObject({
      code: 'expired',
    });
  });

  it('denies with access_denied and records nothing', async () => {
    const { consent, ask, store } = await setup();
    const { listed, csrf } = await ask();
    const location = locationOf(await consent.decide({ request_id: listed.id, csrf, decision: 'deny' }, true));
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(store.state.consents).toEqual({});
  });

  it('puts the request back when the consent cannot be saved', async () => {
    const { consent, ask, store, approvals } = await setup();
    const { listed, csrf } = await ask();
    const update = store.update.bind(store);
    store.update = () => Promise.reject(Object.assign(new Error('disk full'), { code: 'disk_full' }));
    await expect(consent.decide({ request_id: listed.id, csrf, decision: 'approve' }, true)).rejects.toThrow(
      'disk full',
    );
    expect(approvals.get(listed.id)).toBeDefined();
    store.update = update;
  });

  it('decides an unlisted request (over the caps) once, from what its page carries', async () => {
    const { ask, ctx, approvals, store } = await setup();
    for (let i = 0; i < LISTED_CAPS.perClient; i++) await ask();
    const unlisted = new UnlistedRequests();
    const page = await createAuthorizeEndpoint(ctx, approvals, unlisted)(QUERY, LOCAL);
    const html = (page as { html: string }).html;
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)![1]!;
    const form = { request_id: field('request_id'), csrf: field('csrf'), decision: 'approve' };
    expect(form.request_id.startsWith('u.')).toBe(true);
    const decide = createConsentEndpoints(ctx, approvals, unlisted, new CodeBook()).decide;
    expect((await decide(form, true)).kind).toBe('redirect');
    expect(store.state.consents['client-1']).toBeDefined();
    expect(await decide(form, true)).toMatchObject({ code: 'expired' });
  });

  describe('wait', () => {
    it('answers the page again until the owner decides, then the code, once', async () => {
      const { consent, ask, approvals, codes } = await setup('owner');
      const { listed, csrf } = await ask();
      expect(await consent.wait({ request: listed.id, token: csrf })).toMatchObject({ kind: 'page' });
      approvals.decide(listed.id, true);
      const code = locationOf(await consent.wait({ request: listed.id, token: csrf })).searchParams.get('code')!;
      expect(codes.find(code)).toMatchObject({ scopes: ['mcp:toy:read'] });
      expect(await consent.wait({ request: listed.id, token: csrf })).toMatchObject({ code: 'expired' });
    });

    it('refuses a poll without the request’s secret', async () => {
      const { consent, ask } = await setup('owner');
      const { listed } = await ask();
      expect(await consent.wait({ request: listed.id, token: 'guess' })).toMatchObject({ status: 403 });
    });
  });
});
