import { describe, expect, it } from 'vitest';
import { newUserCode, normalizeUserCode, requesterOf } from './requester.js';

describe('requesterOf', () => {
  it('takes the peer address on the local listener, ignoring X-Forwarded-For', () => {
    expect(
      requesterOf({
        listener: 'local',
        socketAddress: '::ffff:127.0.0.1',
        headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'curl/8.5' },
      }),
    ).toEqual({ address: '127.0.0.1', userAgent: 'curl/8.5' });
  });

  it('takes the address the tunnel provider appended last', () => {
    expect(
      requesterOf({
        listener: 'tunnel',
        socketAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '10.9.9.9, 198.51.100.7' },
      }),
    ).toEqual({ address: '198.51.100.7' });
  });

  it('keeps the peer address when the forwarded one is not an address', () => {
    expect(
      requesterOf({ listener: 'tunnel', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': 'evil<b>' } }),
    ).toEqual({ address: '127.0.0.1' });
  });

  it('strips bidi and control characters from the user agent and cuts it to 200 characters', () => {
    const agent = `Mozilla\u202E/5.0\r\nX-Evil: 1 ${'a'.repeat(300)}`;
    const { userAgent } = requesterOf({
      listener: 'local',
      socketAddress: '127.0.0.1',
      headers: { 'user-agent': agent },
    });
    expect(userAgent).toMatch(/^Mozilla \/5\.0 X-Evil: 1 a+$/);
    expect([...userAgent!].length).toBe(200);
  });
});

describe('user codes', () => {
  it('are eight consonants from the RFC 8628 alphabet, in two groups', () => {
    for (let i = 0; i < 50; i++) expect(newUserCode()).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  });

  it('differ from one request to the next', () => {
    expect(new Set(Array.from({ length: 100 }, newUserCode)).size).toBe(100);
  });

  it('are recognized as typed, in any case, with or without the dash', () => {
    expect(normalizeUserCode('wdjb mjht')).toBe('WDJB-MJHT');
    expect(normalizeUserCode('WDJBMJHT')).toBe('WDJB-MJHT');
    expect(normalizeUserCode('WDJB-MJH0')).toBeUndefined();
    expect(normalizeUserCode('3f0c1d2e-0000')).toBeUndefined();
  });
});
