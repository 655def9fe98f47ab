import { isIP } from 'node:net';

/**
 * Whether an IP address is one the gateway may contact on a stranger's behalf (a Client ID
 * Metadata Document fetch): routable on the public internet, never loopback, private, link-local,
 * multicast or reserved. IPv6 is judged by what it reaches: the forms that carry an IPv4 address
 * (mapped, compatible, translated, NAT64, 6to4, Teredo) are judged by that IPv4 address, since
 * a host or a gateway on the way unwraps them, so `[64:ff9b::7f00:1]` is 127.0.0.1.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isPublicIPv4(ipv4Bytes(address));
  if (family !== 6) return false;
  // A zone index (`fe80::1%eth0`) only ever qualifies link-local and other scoped addresses.
  if (address.includes('%')) return false;
  return isPublicIPv6(ipv6Bytes(address));
}

/** Ranges from the IANA IPv4 special-purpose registry (RFC 6890) that are not globally reachable. */
const PRIVATE_V4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network" (RFC 791)
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated, RFC 7526)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];

/**
 * Inside 2000::/3 (the only global unicast space), the blocks that are not globally reachable.
 * Everything outside 2000::/3 is refused unless it carries an IPv4 address (below).
 */
const PRIVATE_V6: ReadonlyArray<readonly [string, number]> = [
  ['2001:2::', 48], // benchmarking (RFC 5180)
  ['2001:10::', 28], // ORCHID, deprecated (RFC 4843)
  ['2001:20::', 28], // ORCHIDv2 identifiers, not routable (RFC 7343)
  ['2001:db8::', 32], // documentation (RFC 3849)
  ['3fff::', 20], // documentation (RFC 9637)
];

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of a valid IPv6 literal (isIP already said it is one), `::` and a dotted tail expanded. */
function ipv6Bytes(address: string): Uint8Array {
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((piece) => {
          if (!piece.includes('.')) return [parseInt(piece, 16)];
          const [a, b, c, d] = ipv4Bytes(piece);
          return [(a! << 8) | b!, (c! << 8) | d!];
        });
  const [head = '', tail] = address.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

function inPrefix(bytes: Uint8Array, network: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((bytes[bit >> 3]! & mask) !== (network[bit >> 3]! & mask)) return false;
  }
  return true;
}

const V4_RANGES = PRIVATE_V4.map(([net, prefix]) => [ipv4Bytes(net), prefix] as const);
const V6_RANGES = PRIVATE_V6.map(([net, prefix]) => [ipv6Bytes(net), prefix] as const);
const prefixOf = (text: string) => ipv6Bytes(text);
const MAPPED = prefixOf('::ffff:0:0'); // ::ffff:0:0/96 (RFC 4291 §2.5.5.2)
const TRANSLATED = prefixOf('::ffff:0:0:0'); // ::ffff:0:0:0/96 (RFC 2765 §2.1)
const COMPATIBLE = prefixOf('::'); // ::/96, deprecated (RFC 4291 §2.5.5.1); holds :: and ::1 too
const NAT64 = prefixOf('64:ff9b::'); // 64:ff9b::/96 well-known NAT64 prefix (RFC 6052 §2.1)
const SIX_TO_FOUR = prefixOf('2002::'); // 2002::/16 (RFC 3056 §2)
const TEREDO = prefixOf('2001::'); // 2001::/32 (RFC 4380 §4)
const GLOBAL_UNICAST = prefixOf('2000::'); // 2000::/3

function isPublicIPv4(bytes: Uint8Array): boolean {
  return !V4_RANGES.some(([net, prefix]) => inPrefix(bytes, net, prefix));
}

/** The IPv4 addresses an IPv6 address carries, for the forms that carry any; undefined otherwise. */
export function embeddedIPv4(address: string): string[] | undefined {
  if (isIP(address) !== 6 || address.includes('%')) return undefined;
  return embedded(ipv6Bytes(address))?.map((bytes) => bytes.join('.'));
}

function embedded(bytes: Uint8Array): Uint8Array[] | undefined {
  const last32 = bytes.slice(12, 16);
  if (inPrefix(bytes, MAPPED, 96) || inPrefix(bytes, TRANSLATED, 96) || inPrefix(bytes, COMPATIBLE, 96)) {
    return [last32];
  }
  if (inPrefix(bytes, NAT64, 96)) return [last32];
  if (inPrefix(bytes, SIX_TO_FOUR, 16)) return [bytes.slice(2, 6)];
  // Teredo: the server's address in bits 32-63, the client's public address inverted in the last 32.
  if (inPrefix(bytes, TEREDO, 32)) return [bytes.slice(4, 8), last32.map((b) => b ^ 0xff)];
  return undefined;
}

function isPublicIPv6(bytes: Uint8Array): boolean {
  const carried = embedded(bytes);
  if (carried) return carried.every(isPublicIPv4);
  // Outside 2000::/3 lie loopback, unspecified, ULA (fc00::/7), link-local (fe80::/10), site-local,
  // multicast (ff00::/8), discard (100::/64), local-use NAT64 (64:ff9b:1::/48), SRv6 SIDs
  // (5f00::/16) and unassigned space: none is reachable on the internet.
  if (!inPrefix(bytes, GLOBAL_UNICAST, 3)) return false;
  return !V6_RANGES.some(([net, prefix]) => inPrefix(bytes, net, prefix));
}
