/**
 * Pure request checks against DNS rebinding and cross-site calls. They return a verdict; the
 * express adapter in app.ts turns a refusal into a response.
 */
export type Verdict = { ok: true } | { ok: false; message: string };

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Strips the port from a Host header value, keeping IPv6 brackets: "[::1]:3590" → "[::1]". */
export function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end === -1 ? trimmed : trimmed.slice(0, end + 1);
  }
  const colon = trimmed.lastIndexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * A browser tricked by DNS rebinding sends the attacker's name in Host; only names that really
 * mean this machine (plus ones the owner configured) are accepted.
 */
export function checkHost(host: string | undefined, extraHosts: readonly string[]): Verdict {
  if (!host) return { ok: false, message: 'Missing Host header' };
  const hostname = hostnameOf(host);
  if (isLoopbackHostname(hostname)) return { ok: true };
  if (
    extraHosts.some((allowed) => allowed.toLowerCase() === hostname || allowed.toLowerCase() === host.toLowerCase())
  ) {
    return { ok: true };
  }
  return { ok: false, message: `Host not allowed: ${hostname}` };
}

/** How this listener is spelt on loopback: a page it serves has one of these hosts, with its port. */
const LOOPBACK_SPELLINGS = ['127.0.0.1', 'localhost', '[::1]'] as const;

/**
 * The origins of pages this listener serves itself: each loopback spelling with its own port,
 * serialized as a browser sends them (RFC 6454 §6.1: lowercase host, default port left out).
 */
export function ownLoopbackOrigins(port: number): string[] {
  return LOOPBACK_SPELLINGS.map((host) => new URL(`http://${host}:${port}`).origin);
}

/**
 * Requests without Origin come from non-browser clients and pass. A browser Origin must be this
 * listener's own origin exactly (port included) or one the owner allowed: browsers share cookies
 * and loopback trust across ports, so a page on another local port (any local app or dev server
 * the owner visits) is a different site and may not drive the gateway.
 */
export function checkOrigin(
  origin: string | undefined,
  allowed: { own: readonly string[]; extra: readonly string[] },
): Verdict {
  if (origin === undefined) return { ok: true };
  // The opaque origin (sandboxed frames, file: pages, data: URLs of any site) is nobody in particular.
  if (origin === 'null') return { ok: false, message: 'Origin not allowed: null' };
  if (allowed.own.includes(origin) || originListed(origin, allowed.extra)) return { ok: true };
  return { ok: false, message: `Origin not allowed: ${origin}` };
}

/**
 * Whether an Origin header is in a list the owner wrote (`allowedOrigins`). An entry is forgiven a
 * trailing slash or upper case (`https://Claude.ai/`); the header must already be a serialized
 * origin, as browsers send it, so a URL with a path never matches.
 */
export function originListed(origin: string, list: readonly string[]): boolean {
  if (origin === 'null') return false;
  return list.some((entry) => {
    if (entry === origin) return true;
    try {
      return new URL(entry).origin === origin;
    } catch {
      return false;
    }
  });
}
