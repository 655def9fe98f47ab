import { describe, expect, it } from 'vitest';
import { checkRedirectUri, checkRedirectUris, MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from './redirect-uri.js';

describe('redirect URIs a client may register', () => {
  for (const uri of [
    'https://claude.ai/api/mcp/auth_callback',
    'http://127.0.0.1:53682/callback',
    'http://[::1]:8080/cb',
    'http://localhost/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'vscode://saoudrizwan.claude-dev/mcp-auth/callback',
  ]) {
    it(`accepts ${uri}`, () => {
      expect(checkRedirectUri(uri)).toMatchObject({ ok: true });
    });
  }

  for (const uri of [
    'chrome://settings',
    'view-source:https://example.com/',
    'jar:https://example.com/a.jar!/x',
    'mailto:someone@example.com',
    'javascript:alert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
    'blob:https://example.com/uuid',
    'about:blank',
    'vbscript:msgbox',
    'ftp://example.com/cb',
    'ws://127.0.0.1/cb',
    'myapp://callback',
  ]) {
    it(`refuses the scheme of ${uri}, naming what is allowed`, () => {
      const verdict = checkRedirectUri(uri);
      expect(verdict.ok).toBe(false);
      expect(verdict.ok ? '' : verdict.reason).toMatch(/scheme .* is not allowed: use https, loopback http/);
    });
  }

  it('refuses plain http to a host that is not loopback', () => {
    expect(checkRedirectUri('http://example.com/cb')).toEqual({
      ok: false,
      reason: expect.stringMatching(/only for loopback/),
    });
    expect(checkRedirectUri('http://127.0.0.2/cb').ok).toBe(false);
  });

  it('refuses fragments, user information, and overlong URIs', () => {
    expect(checkRedirectUri('https://a.example/cb#x').ok).toBe(false);
    expect(checkRedirectUri('https://a.example/cb#').ok).toBe(false);
    expect(checkRedirectUri('https://u:p@a.example/cb').ok).toBe(false);
    const long = `https://a.example/${'x'.repeat(MAX_REDIRECT_URI_LENGTH)}`;
    expect(checkRedirectUri(long)).toEqual({
      ok: false,
      reason: `each must be at most ${MAX_REDIRECT_URI_LENGTH} characters`,
    });
    expect(checkRedirectUri(long.slice(0, MAX_REDIRECT_URI_LENGTH)).ok).toBe(true);
  });

  it('keeps what it quotes of a bad URI short and on one line', () => {
    const verdict = checkRedirectUri(`not a uri\n${'y'.repeat(500)}`);
    expect(verdict.ok ? '' : verdict.reason).toMatch(/^not an absolute URI: not a uri\?y+…$/);
    expect(verdict.ok ? '' : verdict.reason.length).toBeLessThan(120);
  });

  it('takes a list of at most MAX_REDIRECT_URIS', () => {
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1/cb${i}`);
    expect(checkRedirectUris(uris(MAX_REDIRECT_URIS))).toEqual({ ok: true, uris: uris(MAX_REDIRECT_URIS) });
    expect(checkRedirectUris(uris(MAX_REDIRECT_URIS + 1))).toEqual({
      ok: false,
      reason: `redirect_uris: at most ${MAX_REDIRECT_URIS} are accepted, ${MAX_REDIRECT_URIS + 1} were sent`,
    });
    expect(checkRedirectUris([])).toMatchObject({ ok: false });
    expect(checkRedirectUris('http://127.0.0.1/cb')).toMatchObject({ ok: false });
    expect(checkRedirectUris(['http://127.0.0.1/cb', 'chrome://x'])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^redirect_uris: scheme chrome:/),
    });
  });
});
