const SECRET_KEY =
  /(authorization|token|secret|password|passwd|api[-_]?key|cookie|credential|verifier|^code$|private)/i;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * Returns a copy of `value` with secret-looking fields replaced. Applied to every log record so a
 * token pasted into an env var or a header never reaches a log file.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return value.replace(BEARER, '$1 [redacted]');
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}

/** What a masked secret is replaced by in text shown or logged. */
export const SECRET_MASK = '••••';

/**
 * Secrets shorter than this are not masked in free text: masking "abc" wherever it appears would
 * garble ordinary output and hide little, since a value that short can be guessed by trying them
 * all. The owner is better served by a longer secret (documented in the README, "Secrets").
 */
export const MIN_MASKED_LENGTH = 4;

/**
 * The forms a program may print a secret in: as is, base64 (padded or not) and base64url, the
 * base64 characters that stand for it inside a longer base64 text (a `Basic` header of
 * `user:secret`: the secret can sit at any of three byte alignments, RFC 4648 §4), URL and form
 * encoding (RFC 3986 §2.1, upper- and lowercase hex digits), hex, and as a JSON string.
 */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret, bytes.toString('base64'), bytes.toString('base64url')]);
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    const core = embeddedBase64(bytes, offset);
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  for (const encoded of [encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]) {
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  }
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms].filter((form) => form.length >= MIN_MASKED_LENGTH);
}

/**
 * The base64 characters that depend on `bytes` alone when `offset` (0-2) bytes of something else
 * come before them: each character carries 6 bits, so the ones straddling a neighbour's bits differ
 * with the neighbour and are left out.
 */
function embeddedBase64(bytes: Buffer, offset: number): string {
  const text = Buffer.concat([Buffer.alloc(offset), bytes])
    .toString('base64')
    .replace(/=+$/, '');
  const first = Math.ceil((offset * 8) / 6);
  const end = Math.floor(((offset + bytes.length) * 8) / 6);
  return text.slice(first, end);
}

/**
 * The credential inside an `Authorization`-style value, which a program may print alone: the token
 * of `Bearer <token>`, the `user:password` and the password of `Basic <base64>` (RFC 7617 §2).
 */
function credentialParts(value: string): string[] {
  const match = /^(Bearer|Basic|Token)\s+(\S+)$/i.exec(value.trim());
  if (!match) return [];
  const credential = match[2]!;
  if (match[1]!.toLowerCase() !== 'basic') return [credential];
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? [credential] : [credential, decoded, decoded.slice(colon + 1)];
}

/**
 * A function that replaces each of `secrets`, in every form `secretForms` lists, by `SECRET_MASK`.
 * For the output and errors of a backend handed those secrets (its env or headers), so a server
 * that prints its own token, or a `Basic` header built from it, shows neither.
 */
export function createSecretMasker(secrets: Iterable<string>): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_MASKED_LENGTH) continue;
    for (const value of [secret, ...credentialParts(secret)]) {
      if (value.length >= MIN_MASKED_LENGTH) for (const form of secretForms(value)) forms.add(form);
    }
  }
  if (forms.size === 0) return (text) => text;
  // Longest first, so a padded form is masked whole rather than leaving its tail behind.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(pattern, SECRET_MASK);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
