import { describe, expect, it } from 'vitest';
import { embeddedIPv4, isPublicAddress } from './public-address.js';

describe('isPublicAddress', () => {
  const refused: Record<string, string[]> = {
    'IPv4 loopback, private, link-local and reserved': [
      '127.0.0.1',
      '127.255.255.254',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '192.0.0.8',
      '192.0.2.1',
      '192.88.99.1',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
    ],
    'IPv6 loopback, unspecified, ULA, link-local, site-local, multicast and reserved': [
      '::1',
      '::',
      '0:0:0:0:0:0:0:1',
      'fd00::1',
      'fc00::1',
      'fe80::1',
      'FE80::abcd',
      'fe80::1%eth0',
      'fec0::1',
      'ff02::1',
      '100::1',
      '2001:db8::1',
      '2001:2::1',
      '2001:10::1',
      '2001:20::1',
      '3fff::1',
      '5f00::1',
      '64:ff9b:1::a00:1',
      '4000::1',
    ],
    'IPv4-mapped ::ffff:0:0/96': [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::FFFF:10.0.0.1',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:c0a8:101',
    ],
    'IPv4-compatible ::/96': ['::127.0.0.1', '::7f00:1', '::10.0.0.1', '::a9fe:a9fe', '::0.0.0.1'],
    'IPv4-translated ::ffff:0:0:0/96': ['::ffff:0:127.0.0.1', '::ffff:0:7f00:1', '::ffff:0:a00:1'],
    'NAT64 64:ff9b::/96': ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '64:ff9b::c0a8:101'],
    '6to4 2002::/16': ['2002:7f00:1::', '2002:7f00:1::1', '2002:a00:1:1::1', '2002:a9fe:a9fe::1', '2002:c0a8:101::'],
    // Teredo: server 2001:0:SSSS:SSSS, client address inverted in the last 32 bits.
    'Teredo 2001::/32': [
      '2001:0:7f00:1::', // server 127.0.0.1
      '2001:0:a00:1::', // server 10.0.0.1
      '2001:0:808:808::80ff:fffe', // client ~0x80fffffe = 127.0.0.1
      '2001:0:808:808::f5ff:fffe', // client ~0xf5fffffe = 10.0.0.1
    ],
    'not an address': ['not-an-ip', '', '1.2.3', '127.1', '[::1]'],
  };
  for (const [kind, addresses] of Object.entries(refused)) {
    describe(`refuses ${kind}`, () => {
      for (const address of addresses) it(address || '(empty)', () => expect(isPublicAddress(address)).toBe(false));
    });
  }

  const accepted: Record<string, string[]> = {
    'public IPv4': ['8.8.8.8', '93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1'],
    'global IPv6': ['2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '2001:4860:4860::8888'],
    'embedding forms that carry a public IPv4 address': [
      '::ffff:8.8.8.8',
      '::ffff:808:808',
      '64:ff9b::8.8.8.8',
      '64:ff9b::5db8:d822',
      '2002:808:808::1',
      '2001:0:808:808::f7f7:f7f7', // server 8.8.8.8, client ~0xf7f7f7f7 = 8.8.8.8
    ],
  };
  for (const [kind, addresses] of Object.entries(accepted)) {
    describe(`accepts ${kind}`, () => {
      for (const address of addresses) it(address, () => expect(isPublicAddress(address)).toBe(true));
    });
  }
});

describe('embeddedIPv4', () => {
  const cases: Array<[string, string[] | undefined]> = [
    ['::ffff:7f00:1', ['127.0.0.1']],
    ['::ffff:0:7f00:1', ['127.0.0.1']],
    ['::a00:1', ['10.0.0.1']],
    ['::1', ['0.0.0.1']],
    ['64:ff9b::c0a8:101', ['192.168.1.1']],
    ['2002:a9fe:a9fe::1', ['169.254.169.254']],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', ['65.54.227.120', '192.0.2.45']], // RFC 4380 §4's example
    ['2606:4700:4700::1111', undefined],
    ['127.0.0.1', undefined],
  ];
  for (const [address, expected] of cases) {
    it(`decodes ${address}`, () => expect(embeddedIPv4(address)).toEqual(expected));
  }
});
