/**
 * Redirect URI rules. Registration is strict about what may be registered (RFC 8252 §7, OAuth 2.1
 * §2.3.1); authorization compares exactly, except that a loopback redirect may use any port
 * (RFC 8252 §7.3), because native clients pick a free port at run time.
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** At most this many redirect URIs per client (DCR or metadata document): real clients send one to three. */
export const MAX_REDIRECT_URIS = 10;
/** Each at most this long: real callbacks are well under 200 characters. */
export const MAX_REDIRECT_URI_LENGTH = 2048;

/**
 * Private-use schemes without a period that shipping desktop apps register, older than RFC 8252's
 * reverse-DNS rule: Cursor (`cursor://anysphere.cursor-mcp/oauth/callback`), VS Code extensions
 * such as Cline (`vscode://…`), Windsurf. Any other scheme must contain a period (§7.1).
 */
const KNOWN_APP_SCHEMES = new Set(['cursor:', 'vscode:', 'vscode-insiders:', 'windsurf:']);

/** RFC 3986 §3.1 scheme syntax; RFC 8252 §7.1 wants a reverse domain name, so at least one period. */
const REVERSE_DNS_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

export type UriVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * One redirect URI: https to any host, http only to a loopback address, or a native app's
 * private-use scheme (reverse-DNS such as `com.example.app:/cb`, or one of the known app schemes).
 * Everything else (`javascript:`, `data:`, `file:`, `chrome:`, `view-source:`, `jar:`, `mailto:`…)
 * is refused: a browser would open it with powers no OAuth callback needs.
 */
export function checkRedirectUri(raw: unknown): UriVerdict {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'each must be a non-empty string' };
  if (raw.length > MAX_REDIRECT_URI_LENGTH) {
    return { ok: false, reason: `each must be at most ${MAX_REDIRECT_URI_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not an absolute URI: ${printable(raw)}` };
  }
  const scheme = url.protocol;
  if (scheme === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return { ok: false, reason: 'plain http is allowed only for loopback addresses (127.0.0.1, [::1], localhost)' };
  }
  if (scheme !== 'http:' && scheme !== 'https:' && !KNOWN_APP_SCHEMES.has(scheme) && !REVERSE_DNS_SCHEME.test(scheme)) {
    return {
      ok: false,
      reason: `scheme ${printable(scheme)} is not allowed: use https, loopback http, or a reverse-domain private-use scheme such as com.example.app:/callback (RFC 8252 §7.1)`,
    };
  }
  if (url.hash || raw.includes('#')) return { ok: false, reason: 'must not contain a fragment' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain user information' };
  return { ok: true, url };
}

/** A client's whole list: non-empty, at most MAX_REDIRECT_URIS, each allowed by checkRedirectUri. */
export function checkRedirectUris(raw: unknown): { ok: true; uris: string[] } | { ok: false; reason: string } {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, reason: 'redirect_uris must be a non-empty array' };
  if (raw.length > MAX_REDIRECT_URIS) {
    return { ok: false, reason: `redirect_uris: at most ${MAX_REDIRECT_URIS} are accepted, ${raw.length} were sent` };
  }
  for (const uri of raw) {
    const verdict = checkRedirectUri(uri);
    if (!verdict.ok) return { ok: false, reason: `redirect_uris: ${verdict.reason}` };
  }
  return { ok: true, uris: raw as string[] };
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

/** A bounded, single-line excerpt of what was sent, for an error message. */
function printable(value: string): string {
  const line = value.replace(/[^\x20-\x7e]/g, '?');
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
