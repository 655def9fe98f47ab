import { describe, expect, it } from 'vitest';
import { createSecretMasker, MIN_MASKED_LENGTH, redact, SECRET_MASK, secretForms } from './redact.js';

const SECRET = 'ghp_Secret/Value+0123456789';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('redact', () => {
  it('replaces secret-looking fields and bearer values', () => {
    expect(redact({ apiKey: 'k', note: 'Bearer abc.def', nested: { password: 'p' } })).toEqual({
      apiKey: '[redacted]',
      note: 'Bearer [redacted]',
      nested: { password: '[redacted]' },
    });
  });
});

describe('createSecretMasker', () => {
  const mask = createSecretMasker([SECRET]);

  it('masks the value as is', () => {
    expect(mask(`token=${SECRET} done`)).toBe(`token=${SECRET_MASK} done`);
  });

  it('masks its base64 form, padded or not, and base64url', () => {
    for (const form of [b64(SECRET), b64(SECRET).replace(/=+$/, ''), b64url(SECRET)]) {
      expect(mask(`x ${form} y`), form).toBe(`x ${SECRET_MASK} y`);
    }
  });

  it('masks it inside a longer base64 text, at each of the three alignments', () => {
    for (const prefix of ['u:', 'us:', 'use:', 'user:', 'x-api-user:']) {
      const header = `Authorization: Basic ${b64(prefix + SECRET)}`;
      const masked = mask(header);
      expect(masked, prefix).toContain(SECRET_MASK);
      // What is left of the encoded text no longer decodes to the secret, nor to most of it.
      const left = masked.slice('Authorization: Basic '.length).split(SECRET_MASK).join('');
      expect(Buffer.from(left, 'base64').toString('latin1'), prefix).not.toContain(SECRET.slice(2, -2));
    }
  });

  it('masks the base64url form inside a longer text too', () => {
    const masked = mask(`state=${b64url(`{"k":"${SECRET}"}`)}`);
    expect(masked).toContain(SECRET_MASK);
    expect(Buffer.from(masked.slice(6), 'base64url').toString('latin1')).not.toContain(SECRET.slice(2, -2));
  });

  it('masks URL and form encoding, with either case of hex digits', () => {
    const encoded = encodeURIComponent(SECRET);
    expect(encoded).not.toBe(SECRET);
    expect(mask(`GET /x?key=${encoded}`)).toBe(`GET /x?key=${SECRET_MASK}`);
    const lower = encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
    expect(lower).not.toBe(encoded);
    expect(mask(`key=${lower}`)).toBe(`key=${SECRET_MASK}`);
    expect(mask(new URLSearchParams({ key: 'a b ' + SECRET }).toString())).toContain(SECRET_MASK);
  });

  it('masks its hex form, lower and upper case', () => {
    const hex = Buffer.from(SECRET).toString('hex');
    expect(mask(`dump ${hex}`)).toBe(`dump ${SECRET_MASK}`);
    expect(mask(`dump ${hex.toUpperCase()}`)).toBe(`dump ${SECRET_MASK}`);
  });

  it('masks its JSON-escaped form', () => {
    const quoted = createSecretMasker(['pa"ss\\word']);
    expect(quoted(JSON.stringify({ password: 'pa"ss\\word' }))).toBe(`{"password":"${SECRET_MASK}"}`);
  });

  it('masks the token of a Bearer value and the password of a Basic one on their own', () => {
    const bearer = createSecretMasker(['Bearer sk-live-123456']);
    expect(bearer('sent sk-live-123456')).toBe(`sent ${SECRET_MASK}`);
    const basic = createSecretMasker([`Basic ${b64('admin:hunter2-long')}`]);
    expect(basic('password is hunter2-long')).toBe(`password is ${SECRET_MASK}`);
  });

  it('masks several secrets at once, and leaves other text alone', () => {
    const both = createSecretMasker(['first-secret', 'second-secret']);
    expect(both('a first-secret b second-secret c')).toBe(`a ${SECRET_MASK} b ${SECRET_MASK} c`);
    expect(both('nothing to hide here')).toBe('nothing to hide here');
  });

  it(`leaves secrets shorter than ${MIN_MASKED_LENGTH} characters unmasked (documented)`, () => {
    expect(createSecretMasker(['abc'])('abc abcdef')).toBe('abc abcdef');
  });

  it('treats regular expression characters in a secret literally', () => {
    expect(createSecretMasker(['a.b*c+d'])('a.b*c+d axbbbcd')).toBe(`${SECRET_MASK} axbbbcd`);
  });

  it('with no secrets, returns the text unchanged', () => {
    expect(createSecretMasker([])('anything')).toBe('anything');
  });
});

describe('secretForms', () => {
  it('never lists a form too short to mask safely', () => {
    for (const form of secretForms('abcd')) expect(form.length).toBeGreaterThanOrEqual(MIN_MASKED_LENGTH);
  });
});
