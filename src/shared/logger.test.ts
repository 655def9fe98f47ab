import { describe, expect, it } from 'vitest';
import { createConsoleLogger, escapeLogText, maskingLogger } from './logger.js';
import { createSecretMasker } from './redact.js';

function capture(json = false) {
  const lines: string[] = [];
  const logger = createConsoleLogger({ level: 'debug', json, write: (line) => lines.push(line) });
  return { logger, lines };
}

const FORGED = 'Claude\n2026-12-01T00:00:00.000Z info  consent approved client=evil';

describe('escapeLogText', () => {
  it('writes CR, LF and tab as their short escapes', () => {
    expect(escapeLogText('a\r\nb\tc')).toBe('a\\r\\nb\\tc');
  });
  it('writes other C0 controls, DEL and C1 controls (NEL) as \\u escapes', () => {
    expect(escapeLogText('a\u0000b\u001bc\u007fd\u0085e\u009f')).toBe('a\\u0000b\\u001bc\\u007fd\\u0085e\\u009f');
  });
  it('writes the line and paragraph separators as \\u escapes', () => {
    expect(escapeLogText('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
  });
  it('writes every bidi control as a \\u escape, so an RTL override cannot flip the line', () => {
    const bidi = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e'];
    const isolates = ['\u2066', '\u2067', '\u2068', '\u2069'];
    for (const c of [...bidi, ...isolates]) {
      expect(escapeLogText(`x${c}y`)).toBe(`x\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}y`);
    }
  });
  it('leaves ordinary text alone, accents, emoji and right-to-left letters included', () => {
    const text = 'Café ☕ 127.0.0.1:3590 C:\\Users\\a שלום 🚀';
    expect(escapeLogText(text)).toBe(text);
  });
});

describe('console logger', () => {
  it('writes one line per call whatever a field holds', () => {
    const { logger, lines } = capture();
    logger.info('client registered', { clientName: FORGED, nested: { name: FORGED } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\r\n]/);
    expect(lines[0]).toContain('clientName="Claude\\n2026-12-01T00:00:00.000Z info  consent approved client=evil"');
  });

  it('escapes the message too', () => {
    const { logger, lines } = capture();
    logger.warn(`refused ${FORGED}`);
    expect(lines[0]).not.toMatch(/[\r\n]/);
    expect(lines[0]).toContain('refused Claude\\n2026');
  });

  it('escapes bound fields of a child logger', () => {
    const { logger, lines } = capture();
    logger.child({ client: 'a\u202eb' }).info('hello');
    expect(lines[0]).toMatch(/ client=a\\u202eb$/);
  });

  it('quotes a value with spaces or "=", so it cannot pass for another field', () => {
    const { logger, lines } = capture();
    logger.info('m', { name: 'x level=error', plain: 'gh', empty: '', count: 3 });
    expect(lines[0]).toMatch(/ m name="x level=error" plain=gh empty="" count=3$/);
  });

  it('keeps JSON lines valid JSON, with the value intact once parsed', () => {
    const { logger, lines } = capture(true);
    const name = `${FORGED}\u2028\u202e\u0085`;
    logger.info(`hi\u2029`, { clientName: name });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\r\n\u2028\u2029\u202e\u0085]/);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed.clientName).toBe(name);
    expect(parsed.message).toBe('hi\u2029');
  });
});

describe('maskingLogger', () => {
  it("masks a component's own secrets in the message, nested fields, errors and child fields", () => {
    const { logger, lines } = capture(true);
    const secret = 'my-backend-key-123';
    const masked = maskingLogger(logger, createSecretMasker([secret])).child({ note: `k=${secret}` });
    masked.warn(`failed with ${secret}`, {
      error: new Error(`refused ${Buffer.from(secret).toString('base64')}`),
      nested: { list: [secret] },
      count: 2,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toContain(Buffer.from(secret).toString('base64'));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      message: 'failed with ••••',
      note: 'k=••••',
      error: { message: 'refused ••••' },
      nested: { list: ['••••'] },
      count: 2,
    });
  });
});
