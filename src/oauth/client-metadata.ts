import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { cleanClientName } from './client-limits.js';
import { OAuthError } from './errors.js';
import { checkRedirectUris } from './redirect-uri.js';
import type { ClientRecord } from './store.js';

/**
 * Client ID Metadata Documents: a client whose client_id is an https URL is described by the JSON
 * document at that URL, fetched by us. That is a server-side request to an address the internet
 * chooses, so it is fenced: https only, public addresses only (checked after DNS resolution and
 * pinned for the connection, so a rebinding DNS answer cannot swap it), no redirects, a size and
 * a time cap, and a cache.
 */

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is routable on the public internet (not loopback, private, link-local…). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]!);
    return !PRIVATE.check(address, 'ipv6');
  }
  return !PRIVATE.check(address, 'ipv4');
}

/** An https URL with a path, no fragment, no credentials: the shape of a metadata-document client_id. */
export function isMetadataClientId(clientId: string): boolean {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.pathname !== '/' && !url.hash && !url.username && !url.password;
}

export interface MetadataFetcherOptions {
  /** DNS resolution; tests map names to test servers. */
  lookup?: (hostname: string) => Promise<string[]>;
  /** Which resolved addresses may be contacted; public ones only by default. */
  allowAddress?: (address: string) => boolean;
  /** The connection itself; https by default. Tests inject a plain-http connector. */
  request?: (options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ReturnType<typeof httpsRequest>;
  timeoutMs?: number;
  maxBytes?: number;
  cacheMs?: number;
  now?: () => number;
}

export class ClientMetadataFetcher {
  readonly #options: Required<MetadataFetcherOptions>;
  readonly #cache = new Map<string, { record: ClientRecord; until: number }>();

  constructor(options: MetadataFetcherOptions = {}) {
    this.#options = {
      lookup: async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address),
      allowAddress: isPublicAddress,
      request: (opts, onResponse) => httpsRequest(opts, onResponse),
      timeoutMs: 5_000,
      maxBytes: 64 * 1024,
      cacheMs: 60 * 60_000,
      now: Date.now,
      ...options,
    };
  }

  /** The client described by the document at `clientId`, fetched or from the cache. */
  async client(clientId: string): Promise<ClientRecord> {
    const now = this.#options.now();
    const cached = this.#cache.get(clientId);
    if (cached && cached.until > now) return cached.record;
    const record = toClientRecord(clientId, await this.#fetch(clientId), now);
    if (this.#cache.size >= 500) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(clientId, { record, until: now + this.#options.cacheMs });
    return record;
  }

  async #fetch(clientId: string): Promise<unknown> {
    if (!isMetadataClientId(clientId)) throw refused('client_id is not an https URL with a path');
    const url = new URL(clientId);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(hostname) ? [hostname] : await this.#options.lookup(hostname).catch(() => []);
    if (addresses.length === 0) throw refused(`cannot resolve ${hostname}`);
    // Every answer must be allowed, or a name could mix a public and a private address.
    const blocked = addresses.find((address) => !this.#options.allowAddress(address));
    if (blocked !== undefined) throw refused(`${hostname} resolves to a non-public address`);
    const address = addresses[0]!;
    return new Promise((resolve, reject) => {
      const req = this.#options.request(
        {
          host: address,
          port: url.port || 443,
          path: url.pathname + url.search,
          method: 'GET',
          servername: isIP(hostname) ? undefined : hostname,
          headers: { host: url.host, accept: 'application/json' },
          timeout: this.#options.timeoutMs,
        } as RequestOptions,
        (res) => {
          if ((res.statusCode ?? 0) >= 300 && (res.statusCode ?? 0) < 400) {
            res.resume();
            return reject(refused('the metadata document URL redirects; redirects are not followed'));
          }
          if (res.statusCode !== 200) {
            res.resume();
            return reject(refused(`the metadata document answered HTTP ${res.statusCode}`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.#options.maxBytes) {
              req.destroy();
              reject(refused(`the metadata document is larger than ${this.#options.maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.once('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              reject(refused('the metadata document is not JSON'));
            }
          });
          res.once('error', () => reject(refused('the metadata document could not be read')));
        },
      );
      req.once('timeout', () => {
        req.destroy();
        reject(refused('the metadata document did not arrive in time'));
      });
      req.once('error', (error) => reject(refused(`the metadata document could not be fetched: ${error.message}`)));
      req.end();
    });
  }
}

function refused(reason: string): OAuthError {
  return new OAuthError('invalid_client', `Client metadata document refused: ${reason}`, 400);
}

function toClientRecord(clientId: string, document: unknown, now: number): ClientRecord {
  if (typeof document !== 'object' || document === null) throw refused('not a JSON object');
  const doc = document as Record<string, unknown>;
  if (doc.client_id !== clientId) throw refused('its client_id does not match the URL it was fetched from');
  // The same rules as registration (count, length, schemes).
  const uris = checkRedirectUris(doc.redirect_uris);
  if (!uris.ok) throw refused(uris.reason);
  const method = doc.token_endpoint_auth_method ?? 'none';
  // A document is public: it cannot carry a shared secret, so only public clients are accepted.
  if (method !== 'none') throw refused(`token_endpoint_auth_method ${String(method)} is not supported`);
  const record: ClientRecord = {
    clientId,
    redirectUris: uris.uris,
    tokenEndpointAuthMethod: 'none',
    source: 'cimd',
    createdAt: now,
  };
  const name = cleanClientName(doc.client_name);
  if (name) record.clientName = name;
  if (typeof doc.client_uri === 'string') record.clientUri = doc.client_uri.slice(0, 500);
  return record;
}
