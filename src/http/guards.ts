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

/**
 * Requests without Origin come from non-browser clients and pass. A browser Origin must be a
 * loopback page (a local inspector, the console) or one the owner allowed explicitly.
 */
export function checkOrigin(origin: string | undefined, extraOrigins: readonly string[]): Verdict {
  if (origin === undefined) return { ok: true };
  if (extraOrigins.includes(origin)) return { ok: true };
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return { ok: false, message: `Origin not allowed: ${origin}` };
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHostname(url.hostname.toLowerCase())) {
    return { ok: true };
  }
  return { ok: false, message: `Origin not allowed: ${origin}` };
}
