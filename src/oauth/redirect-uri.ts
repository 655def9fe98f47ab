/**
 * Redirect URI rules. Registration is strict about what may be registered (RFC 8252 §7, OAuth 2.1
 * §2.3.1); authorization compares exactly, except that a loopback redirect may use any port
 * (RFC 8252 §7.3), because native clients pick a free port at run time.
 */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'about:',
  'blob:',
  'ftp:',
  'ws:',
  'wss:',
]);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export type UriVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export function checkRedirectUri(raw: unknown): UriVerdict {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return { ok: false, reason: 'not a URI' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not an absolute URI: ${raw}` };
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return { ok: false, reason: `scheme ${url.protocol} is not allowed` };
  if (url.hash) return { ok: false, reason: 'must not contain a fragment' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain user information' };
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return { ok: false, reason: 'plain http is allowed only for loopback addresses' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) {
    return { ok: false, reason: `invalid scheme ${url.protocol}` };
  }
  return { ok: true, url };
}

/** Exact match against the registered URIs; for loopback http, the port alone may differ. */
export function matchRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const verdict = checkRedirectUri(requested);
  if (!verdict.ok) return false;
  const want = verdict.url;
  if (want.protocol !== 'http:' || !LOOPBACK_HOSTS.has(want.hostname)) return false;
  return registered.some((candidate) => {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      return false;
    }
    return (
      url.protocol === 'http:' &&
      url.hostname === want.hostname &&
      url.pathname === want.pathname &&
      url.search === want.search
    );
  });
}
