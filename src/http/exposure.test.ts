import { describe, expect, it } from 'vitest';
import { exposureOf, nonLoopbackWarning } from './exposure.js';

describe('exposureOf', () => {
  it('is empty for a loopback bind without allowed hosts', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      expect(exposureOf({ host, allowedHosts: [] })).toEqual([]);
    }
  });

  it('names a non-loopback bind and allowed hosts', () => {
    expect(exposureOf({ host: '0.0.0.0', allowedHosts: [] })).toEqual(['bound to 0.0.0.0']);
    expect(exposureOf({ host: '::', allowedHosts: ['gw.example.com'] })).toEqual([
      'bound to ::',
      'allowedHosts: gw.example.com',
    ]);
  });
});

describe('nonLoopbackWarning', () => {
  it('warns for an address other machines reach, naming the approvals command', () => {
    expect(nonLoopbackWarning('0.0.0.0', 'cortex-gateway')).toMatch(
      /^listening on 0\.0\.0\.0, which other machines can reach: .*"cortex-gateway approvals"/,
    );
  });

  it('says nothing for loopback', () => {
    expect(nonLoopbackWarning('127.0.0.1', 'cortex-gateway')).toBeUndefined();
    expect(nonLoopbackWarning('localhost', 'cortex-gateway')).toBeUndefined();
  });
});
