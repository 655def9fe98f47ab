import { describe, expect, it } from 'vitest';
import { checkHost, checkOrigin, hostnameOf } from './guards.js';

describe('hostnameOf', () => {
  it('strips the port and keeps IPv6 brackets', () => {
    expect(hostnameOf('127.0.0.1:3590')).toBe('127.0.0.1');
    expect(hostnameOf('[::1]:3590')).toBe('[::1]');
    expect(hostnameOf('LocalHost')).toBe('localhost');
  });
});

describe('checkHost', () => {
  for (const host of ['127.0.0.1:3590', 'localhost:1', 'localhost', '[::1]:3590', '127.1.2.3:80']) {
    it(`accepts ${host}`, () => expect(checkHost(host, []).ok).toBe(true));
  }
  for (const host of ['evil.example.com', 'localhost.evil.com:3590', '127.0.0.1.nip.io', '0.0.0.0:3590']) {
    it(`refuses ${host}`, () =>
      expect(checkHost(host, [])).toEqual({ ok: false, message: expect.stringContaining('Host not allowed') }));
  }
  it('refuses a missing Host', () => expect(checkHost(undefined, []).ok).toBe(false));
  it('accepts a host the owner allowed', () =>
    expect(checkHost('gw.example.com:443', ['gw.example.com']).ok).toBe(true));
});

describe('checkOrigin', () => {
  it('lets requests without Origin through (not a browser)', () => expect(checkOrigin(undefined, []).ok).toBe(true));
  it('accepts a loopback page', () => expect(checkOrigin('http://localhost:6274', []).ok).toBe(true));
  for (const origin of ['http://evil.example.com', 'null', 'file://', 'http://127.0.0.1.evil.com']) {
    it(`refuses ${origin}`, () => expect(checkOrigin(origin, []).ok).toBe(false));
  }
  it('accepts an origin the owner allowed', () =>
    expect(checkOrigin('https://claude.ai', ['https://claude.ai']).ok).toBe(true));
});
