import { redact } from './redact.js';

export const MASK = '••••';

/** A credential written as `name=value`, `name: value` or `"name": "value"`, where the name says what it is. */
const NAMED_SECRET =
  /\b([\w-]*(?:key|token|secret|password|passwd|pwd|auth|credential|signature|session)[\w-]*)("?\s*[=:]\s*"?)([^\s"',;&)}\]]+)/gi;
/** `scheme://user:password@host`: the user part of a URL. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
/** The query of a URL, where API keys often travel (`?api_key=…`). */
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]+)\?[^\s#"']+/gi;
/** A long run of letters and digits mixing both: the shape of a key or token (`sk-…`, a JWT part). */
const TOKEN_LIKE = /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b/g;

/**
 * A backend's error text made safe to show to a client. Errors quote what the server or the
 * network said, and servers quote credentials ("invalid API key sk-…"): the backend's known secret
 * values (its env and header values, plain or from the secret store) are masked first, then
 * bearer credentials (`redact`), named credentials, URL credentials and queries, and anything
 * shaped like a key. What remains says what went wrong, not with what.
 */
export function maskErrorText(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole. Very short values would
  // mask ordinary words and hide little.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  out = redact(out) as string;
  return out
    .replace(NAMED_SECRET, `$1$2${MASK}`)
    .replace(URL_USERINFO, `$1${MASK}@`)
    .replace(URL_QUERY, `$1?${MASK}`)
    .replace(TOKEN_LIKE, MASK);
}
