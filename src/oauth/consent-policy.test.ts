import { describe, expect, it } from 'vitest';
import type { ConsentPrompter, Origin, PendingConsentView } from './server.js';
import { createConsentPolicy, type ConsentPolicyOptions } from './consent-policy.js';

const local = (host: string): Origin => ({
  issuer: `http://${host}`,
  resource: `http://${host}/mcp`,
  listener: 'local',
});
const LOCAL = [local('127.0.0.1:4000'), local('localhost:4000'), local('[::1]:4000')];
const TUNNEL: Origin = { issuer: 'https://a.example', resource: 'https://a.example/mcp', listener: 'tunnel' };
const REQUEST: PendingConsentView = {
  id: 'p1',
  userCode: 'WDJB-MJHT',
  clientId: 'c1',
  clientName: 'Client',
  clientSource: 'dcr',
  redirectHost: 'localhost',
  requestedScopes: ['mcp:a:read'],
  suggestedScopes: ['mcp:a:read'],
  listener: 'local',
  origin: 'http://127.0.0.1:4000',
  createdAt: 0,
};

function policy(overrides: Partial<ConsentPolicyOptions> = {}) {
  const told: string[] = [];
  const prompter = createConsentPolicy({
    exposed: false,
    localOrigins: () => LOCAL,
    requested: (request) => told.push(`requested ${request.id}`),
    changed: () => told.push('changed'),
    ...overrides,
  });
  return { prompter, told };
}

describe('the consent policy', () => {
  it('lets the requesting page approve on a listener only this machine reaches', () => {
    const { prompter } = policy();
    for (const origin of LOCAL) expect(prompter.mode(origin)).toBe('page');
  });

  it('sends the tunnel, an exposed listener and an unknown origin to the owner’s approval list', () => {
    expect(policy().prompter.mode(TUNNEL)).toBe('owner');
    // The tunnel's listener tag decides, whatever issuer it claims.
    expect(policy().prompter.mode({ ...LOCAL[0]!, listener: 'tunnel' })).toBe('owner');
    expect(policy().prompter.mode(local('proxy.example'))).toBe('owner');
    expect(policy({ exposed: true }).prompter.mode(LOCAL[0]!)).toBe('owner');
    // Before the listener is bound it has no origins: nothing is local yet.
    expect(policy({ localOrigins: () => [] }).prompter.mode(LOCAL[0]!)).toBe('owner');
  });

  it('lets the embedder choose for this machine’s listener only, and tells it of every request and change', () => {
    const calls: string[] = [];
    const embedder: ConsentPrompter = {
      mode: () => 'owner',
      requested: (request) => calls.push(`embedder requested ${request.id}`),
      changed: () => calls.push('embedder changed'),
    };
    const { prompter, told } = policy({ embedder });
    expect(prompter.mode(LOCAL[0]!)).toBe('owner');
    const pageEmbedder = policy({ embedder: { mode: () => 'page' } }).prompter;
    expect(pageEmbedder.mode(TUNNEL)).toBe('owner');
    expect(policy({ exposed: true, embedder: { mode: () => 'page' } }).prompter.mode(LOCAL[0]!)).toBe('owner');
    prompter.requested!(REQUEST);
    prompter.changed!();
    expect(calls).toEqual(['embedder requested p1', 'embedder changed']);
    expect(told).toEqual(['requested p1', 'changed']);
  });

  it('tells the gateway of requests and changes without an embedder', () => {
    const { prompter, told } = policy();
    prompter.requested!(REQUEST);
    prompter.changed!();
    expect(told).toEqual(['requested p1', 'changed']);
  });
});
