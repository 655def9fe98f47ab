import { describe, expect, it } from 'vitest';
import { allowsBatches, checkVersionHeader, primesStreams } from './revision-rules.js';

describe('checkVersionHeader', () => {
  it('accepts the negotiated version', () => {
    expect(checkVersionHeader('2025-06-18', '2025-06-18')).toEqual({ ok: true });
  });

  it('accepts a request without the header (assumed 2025-03-26, as the spec says)', () => {
    expect(checkVersionHeader(undefined, '2025-11-25')).toEqual({ ok: true });
  });

  it('refuses a supported version other than the negotiated one, naming both', () => {
    const verdict = checkVersionHeader('2025-03-26', '2025-11-25');
    expect(verdict).toEqual({ ok: false, message: expect.stringContaining('2025-03-26') });
    expect(verdict).toEqual({
      ok: false,
      message: expect.stringContaining('negotiated for this session (2025-11-25)'),
    });
  });

  it('refuses an unsupported version', () => {
    expect(checkVersionHeader('1999-01-01', '2025-11-25')).toEqual({
      ok: false,
      message: expect.stringContaining('unsupported protocol version 1999-01-01'),
    });
  });

  it('reads the first of repeated headers', () => {
    expect(checkVersionHeader(['2025-06-18', '2025-03-26'], '2025-06-18')).toEqual({ ok: true });
  });
});

describe('allowsBatches', () => {
  it('allows batches up to 2025-03-26 and refuses them from 2025-06-18 on', () => {
    expect(allowsBatches('2024-11-05')).toBe(true);
    expect(allowsBatches('2025-03-26')).toBe(true);
    expect(allowsBatches('2025-06-18')).toBe(false);
    expect(allowsBatches('2025-11-25')).toBe(false);
  });
});

describe('primesStreams', () => {
  it('primes SSE streams of 2025-11-25 sessions only', () => {
    expect(primesStreams('2025-06-18')).toBe(false);
    expect(primesStreams('2025-11-25')).toBe(true);
    expect(primesStreams(undefined)).toBe(false);
  });
});
