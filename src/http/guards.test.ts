import { describe, expect, it } from 'vitest';
import { checkHost, checkOrigin, hostnameOf, ownLoopbackOrigins } from './guards.js';

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

describe('ownLoopbackOrigins', () => {
  it('spells the listener on every loopback name with its port, as a browser serializes it', () => {
    expect(ownLoopbackOrigins(3590)).toEqual(['http://127.0.0.1:3590', 'http://localhost:3590', 'http://[::1]:3590']);
  });
  it('leaves out the default port, as browsers do', () => {
    expect(ownLoopbackOrigins(80)).toEqual(['http://127.0.0.1', 'http://localhost', 'http://[::1]']);
  });
});

describe('checkOrigin', () => {
  const own = ownLoopbackOrigins(3590);
  const local = { own, extra: [] };
  it('lets requests without Origin through (not a browser)', () => expect(checkOrigin(undefined, local).ok).toBe(true));
  for (const origin of own) {
    it(`accepts the listener's own origin ${origin}`, () => expect(checkOrigin(origin, local).ok).toBe(true));
  }
  for (const origin of [
    'http://localhost:6274',
    'http://127.0.0.1:3591',
    'http://[::1]:8080',
    'http://127.0.0.1',
    'https://127.0.0.1:3590',
    'http://127.0.0.2:3590',
  ]) {
    it(`refuses ${origin}: another port, scheme or address is another site`, () =>
      expect(checkOrigin(origin, local)).toEqual({ ok: false, message: `Origin not allowed: ${origin}` }));
  }
  for (const origin of [
    'http://evil.example.com',
    'null',
    'file://',
    'http://127.0.0.1.evil.com',
    'http://localhost:3590/app',
    'HTTP://LOCALHOST:3590',
  ]) {
    it(`refuses ${origin}`, () => expect(checkOrigin(origin, local).ok).toBe(false));
  }
  it('accepts an origin the owner allowed', () =>
    expect(checkOrigin('https://claude.ai', { own, extra: ['https://claude.ai'] }).ok).toBe(true));
  it('accepts another local port the owner allowed (the MCP Inspector in direct mode)', () =>
    expect(checkOrigin('http://localhost:6274', { own, extra: ['http://localhost:6274'] }).ok).toBe(true));
  it("forgives a trailing slash or upper case in the owner's entry", () =>
    expect(checkOrigin('https://claude.ai', { own, extra: ['https://Claude.ai/'] }).ok).toBe(true));
  it('never accepts the opaque origin "null", even when listed', () => {
    expect(checkOrigin('null', { own, extra: ['null'] }).ok).toBe(false);
    expect(checkOrigin('null', { own, extra: ['file://'] }).ok).toBe(false);
  });
  it('with no own origins (the tunnel listener), accepts only the allowed ones', () => {
    expect(checkOrigin('http://127.0.0.1:3590', { own: [], extra: ['https://claude.ai'] }).ok).toBe(false);
    expect(checkOrigin('https://claude.ai', { own: [], extra: ['https://claude.ai'] }).ok).toBe(true);
  });
});
