import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';

/** Who made an authorization request, as the owner's approval view shows it. */
export interface Requester {
  /**
   * The browser's address: the peer of the connection on the local listener; through the tunnel,
   * the address its provider reports (the last `X-Forwarded-For` entry, which Cloudflare and ngrok
   * append), since every tunnelled connection comes from the provider's agent on this machine.
   */
  address?: string;
  userAgent?: string;
}

/** What `requesterOf` reads from a request. */
export interface RequesterInput {
  listener: 'local' | 'tunnel';
  socketAddress: string | undefined;
  headers: { 'user-agent'?: string | string[] | undefined; 'x-forwarded-for'?: string | string[] | undefined };
}

const MAX_USER_AGENT = 200;

/**
 * Control, bidi and zero-width characters (as in client names, src/oauth/client-limits.ts): a user
 * agent is the requester's own text, shown to the owner next to the code they compare.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function clean(raw: string | string[] | undefined, max: number): string | undefined {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (typeof value !== 'string') return undefined;
  const cleaned = [...value.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim()].slice(0, max).join('').trim();
  return cleaned || undefined;
}

/** "::ffff:127.0.0.1" → "127.0.0.1": the form people read. */
function plainAddress(address: string | undefined): string | undefined {
  if (!address || isIP(address) === 0) return undefined;
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The requester of a request. A forwarded address is believed only on the tunnel listener, where
 * the provider's agent is the only peer; on the local listener anyone could send the header.
 */
export function requesterOf(input: RequesterInput): Requester {
  let address = plainAddress(input.socketAddress);
  if (input.listener === 'tunnel') {
    const header = input.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    address = plainAddress(list.at(-1)?.trim()) ?? address;
  }
  const userAgent = clean(input.headers['user-agent'], MAX_USER_AGENT);
  return { ...(address ? { address } : {}), ...(userAgent ? { userAgent } : {}) };
}

/**
 * RFC 8628 §6.1: consonants only (no words can form), none that look alike (no 0/O, 1/I). Eight of
 * them are about 34 bits: not guessable, and short enough to compare at a glance.
 */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** A fresh code such as "WDJB-MJHT", random (nothing else about the request predicts it). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** A code as the owner may type it ("wdjbmjht", "WDJB MJHT") in the form it is shown; undefined if it is none. */
export function normalizeUserCode(typed: string): string | undefined {
  const letters = typed.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== 8 || [...letters].some((c) => !USER_CODE_ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}
