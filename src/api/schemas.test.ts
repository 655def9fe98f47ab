import { describe, expect, it } from 'vitest';
import { GatewayError } from '../shared/errors.js';
import {
  activityQuerySchema,
  connectClientSchema,
  consentDecisionSchema,
  createTokenSchema,
  importSchema,
  MAX_SCOPES,
  parseInput,
  setClientScopesSchema,
  setGatewaySchema,
  settingsSchema,
  toolOverrideSchema,
} from './schemas.js';

/** The refusal parseInput throws, as the owner API answers it. */
function refusal(run: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { code: error.code, field: error.field, message: error.message };
  }
  throw new Error('expected a refusal');
}

describe('owner API input schemas', () => {
  it('reads a tool override and refuses an unknown key naming it', () => {
    expect(parseInput(toolOverrideSchema, { enabled: false, access: null })).toEqual({ enabled: false, access: null });
    expect(refusal(() => parseInput(toolOverrideSchema, { enable: false }))).toEqual({
      code: 'invalid_argument',
      field: 'enable',
      message: 'unknown field (expected "enabled" or "access")',
    });
    expect(refusal(() => parseInput(toolOverrideSchema, { access: 'admin' }))).toMatchObject({ field: 'access' });
    expect(refusal(() => parseInput(toolOverrideSchema, undefined))).toEqual({
      code: 'invalid_argument',
      field: 'body',
      message: 'must be a JSON object',
    });
  });

  it('names the entry of a scope list at fault, and caps the list', () => {
    expect(refusal(() => parseInput(setClientScopesSchema, { scopes: ['a', 7] }))).toEqual({
      code: 'invalid_argument',
      field: 'scopes[1]',
      message: 'must be a string',
    });
    const many = Array.from({ length: MAX_SCOPES + 1 }, (_, i) => `s${i}`);
    expect(refusal(() => parseInput(setClientScopesSchema, { scopes: many }))).toMatchObject({ field: 'scopes' });
    expect(refusal(() => parseInput(setClientScopesSchema, []))).toMatchObject({ field: 'body' });
  });

  it('speaks in config paths on the settings page, and refuses an empty change', () => {
    expect(refusal(() => parseInput(settingsSchema, { port: 70000 }))).toEqual({
      code: 'invalid_argument',
      field: 'gateway.port',
      message: 'must be a whole number from 0 to 65535 (0 picks any free port)',
    });
    expect(refusal(() => parseInput(settingsSchema, { port: 1.5 }))).toMatchObject({ field: 'gateway.port' });
    expect(refusal(() => parseInput(settingsSchema, { tunnel: { colour: 'red' } }))).toEqual({
      code: 'invalid_argument',
      field: 'gateway.tunnel.colour',
      message: 'unknown setting (provider, domain, autostart)',
    });
    expect(refusal(() => parseInput(settingsSchema, { host: '0.0.0.0' }))).toMatchObject({ field: 'host' });
    expect(refusal(() => parseInput(settingsSchema, {}))).toEqual({
      code: 'invalid_argument',
      field: 'body',
      message: 'nothing to change',
    });
    expect(parseInput(settingsSchema, { port: 0, tunnel: { domain: '' } })).toEqual({
      port: 0,
      tunnel: { domain: null },
    });
  });

  it('defaults a personal token name and refuses a missing scope or a lifetime over a year', () => {
    expect(parseInput(createTokenSchema, { name: '  ci  ', scopes: ['*', 3], ttlSeconds: 60 })).toEqual({
      name: 'ci',
      scopes: ['*'],
      ttlSeconds: 60,
    });
    expect(parseInput(createTokenSchema, { scopes: ['*'], ttlSeconds: 1 }).name).toBe('token');
    expect(refusal(() => parseInput(createTokenSchema, { ttlSeconds: 60 }))).toEqual({
      code: 'invalid_argument',
      field: 'scopes',
      message: 'at least one scope is required',
    });
    expect(refusal(() => parseInput(createTokenSchema, { scopes: ['*'], ttlSeconds: 367 * 24 * 3600 }))).toMatchObject({
      field: 'ttlSeconds',
      message: 'must be between 1 s and one year',
    });
  });

  it('takes a consent decision, dropping scopes that are not strings', () => {
    expect(parseInput(consentDecisionSchema, { decision: 'approve', scopes: ['a', 1] })).toEqual({
      decision: 'approve',
      scopes: ['a'],
    });
    expect(refusal(() => parseInput(consentDecisionSchema, undefined))).toMatchObject({ field: 'decision' });
    expect(refusal(() => parseInput(consentDecisionSchema, { decision: 'deny', scopes: 'a' }))).toMatchObject({
      field: 'scopes',
      message: 'must be a list of scopes',
    });
  });

  it('accepts no body where everything is optional, and refuses a URL that is not http(s)', () => {
    expect(parseInput(connectClientSchema, undefined)).toEqual({});
    expect(parseInput(importSchema, null)).toEqual({});
    expect(refusal(() => parseInput(connectClientSchema, { url: 'file:///etc/passwd' }))).toEqual({
      code: 'invalid_argument',
      field: 'url',
      message: 'must be an absolute http(s) URL',
    });
    expect(refusal(() => parseInput(importSchema, { servers: ['a', 2] }))).toMatchObject({ field: 'servers[1]' });
    expect(refusal(() => parseInput(setGatewaySchema, { paused: 'yes' }))).toMatchObject({ field: 'paused' });
  });

  it('reads the activity query leniently, capping the limit', () => {
    expect(
      parseInput(activityQuerySchema, { after: '12', client: 'c', tool: '', outcome: 'bogus', limit: '5000' }),
    ).toEqual({ after: 12, clientId: 'c', limit: 1000 });
    expect(parseInput(activityQuerySchema, { after: 'x', limit: '-1', outcome: 'refused' })).toEqual({
      outcome: 'refused',
    });
  });
});
