import { describe, expect, it } from 'vitest';
import { isTunnelPath } from './tunnel-surface.js';

describe('isTunnelPath', () => {
  it.each([
    '/mcp',
    '/authorize',
    '/authorize/wait',
    '/consent',
    '/token',
    '/register',
    '/revoke',
    '/jwks.json',
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
  ])('serves %s', (path) => {
    expect(isTunnelPath(path)).toBe(true);
  });

  it.each([
    '/',
    '/app',
    '/app/',
    '/app/login',
    '/api/consents',
    '/API/consents',
    '/Api/tunnel',
    '/api',
    '/healthz',
    '/mcp/',
    '/MCP',
    '/token/',
    '/%61pi/consents',
    '/mcp/../api/consents',
    '/.well-known/../api/consents',
  ])('refuses %s', (path) => {
    expect(isTunnelPath(path)).toBe(false);
  });
});
