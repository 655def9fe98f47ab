import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { isIP } from 'node:net';
import { silentLogger, type Logger } from '../shared/logger.js';
import { cleanClientName } from './client-limits.js';
import { OAuthError } from './errors.js';
import { isPublicAddress } from './public-address.js';
import { checkRedirectUris } from './redirect-uri.js';
import type { ClientRecord } from './store.js';

export { isPublicAddress } from './public-address.js';

/**
 * Client ID Metadata Documents: a client whose client_id is an https URL is described by the JSON
 * document at that URL, fetched by us. That is a server-side request to an address the internet
 * chooses, so it is fenced: https only, public addresses only (checked after DNS resolution and
 * pinned for the connection, so a rebinding DNS answer cannot swap it), no redirects, a size cap,
 * one deadline for the whole fetch, a rate limit, and a cache. Whoever asked learns only that the
 * document could not be had; what went wrong on the network (addresses, ports, errno) goes to the
 * log, or the error page would be a port scanner for the internal network.
 */

/** An https URL with a path, no fragment, no credentials: the shape of a metadata-document client_id. */
export function isMetadataClientId(clientId: string): boolean {
  // The URL parser drops tabs and newlines silently; an id that needs that is not the URL it names.
  if (/\s/.test(clientId) || [...clientId].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return false;
  }
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
  request?: (options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;
  /** One deadline for the whole fetch: DNS, connect, TLS, headers and body together. */
  timeoutMs?: number;
  /** The largest document accepted, in bytes. */
  maxBytes?: number;
  cacheMs?: number;
  /**
   * Fetches of one client id per `limitWindowMs`. A document that cannot be had is not cached, so
   * this is what spaces out the retries of a broken (or hostile) one.
   */
  perClientLimit?: number;
  /**
   * Fetches of all client ids together per `limitWindowMs`: anyone who can reach /authorize (the
   * tunnel) can name a new URL each time, and each one would otherwise be a fetch.
   */
  totalLimit?: number;
  limitWindowMs?: number;
  now?: () => number;
  /** Where the details of a refused document go (never to the requester). */
  logger?: Logger;
}

/** Why a fetch failed, for the log only. */
class FetchFailure extends Error {}

/** What the requester is told when the document could not be had, whatever the reason. */
const UNREACHABLE = 'the document could not be fetched';

export class ClientMetadataFetcher {
  readonly #options: Required<MetadataFetcherOptions>;
  readonly #cache = new Map<string, { record: ClientRecord; until: number }>();
  /** Fetches under way, so that simultaneous requests for one client id share one fetch. */
  readonly #inflight = new Map<string, Promise<ClientRecord>>();
  /** Start times of recent fetches, per client id and overall. */
  readonly #recent = new Map<string, number[]>();
  #recentTotal: number[] = [];

  constructor(options: MetadataFetcherOptions = {}) {
    this.#options = {
      lookup: async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address),
      allowAddress: isPublicAddress,
      request: (opts, onResponse) => httpsRequest(opts, onResponse),
      timeoutMs: 5_000,
      maxBytes: 64 * 1024,
      cacheMs: 60 * 60_000,
      perClientLimit: 5,
      totalLimit: 30,
      limitWindowMs: 60_000,
      now: Date.now,
      logger: silentLogger,
      ...options,
    };
  }

  /** The client described by the document at `clientId`, fetched or from the cache. */
  async client(clientId: string): Promise<ClientRecord> {
    if (!isMetadataClientId(clientId)) throw refused('client_id is not an https URL with a path');
    const now = this.#options.now();
    const cached = this.#cache.get(clientId);
    if (cached && cached.until > now) return cached.record;
    const running = this.#inflight.get(clientId);
    if (running) return running;
    this.#spend(clientId, now);
    const loading = this.#load(clientId, now);
    this.#inflight.set(clientId, loading);
    try {
      return await loading;
    } finally {
      this.#inflight.delete(clientId);
    }
  }

  async #load(clientId: string, now: number): Promise<ClientRecord> {
    let document: unknown;
    try {
      document = await this.#fetch(clientId);
    } catch (error) {
      if (!(error instanceof FetchFailure)) throw error;
      // The URL is logged as parsed (percent-encoded), so a client_id cannot forge log lines.
      this.#options.logger.warn('client metadata document could not be fetched', {
        clientId: new URL(clientId).href,
        reason: error.message,
      });
      throw refused(UNREACHABLE);
    }
    const record = toClientRecord(clientId, document, now);
    if (this.#cache.size >= 500) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(clientId, { record, until: now + this.#options.cacheMs });
    return record;
  }

  /** Counts a fetch against the limits, or refuses it (nothing is fetched then). */
  #spend(clientId: string, now: number): void {
    const { perClientLimit, totalLimit, limitWindowMs } = this.#options;
    const live = (times: number[]) => times.filter((t) => now - t < limitWindowMs);
    this.#recentTotal = live(this.#recentTotal);
    for (const [id, times] of this.#recent) {
      const kept = live(times);
      if (kept.length === 0) this.#recent.delete(id);
      else this.#recent.set(id, kept);
    }
    const mine = this.#recent.get(clientId) ?? [];
    if (mine.length >= perClientLimit || this.#recentTotal.length >= totalLimit) {
      this.#options.logger.warn('client metadata fetch rate-limited', {
        clientId: new URL(clientId).href,
        recentForClient: mine.length,
        recentTotal: this.#recentTotal.length,
      });
      throw new OAuthError(
        'temporarily_unavailable',
        'Too many client metadata documents were fetched recently; try again in a minute',
        429,
      );
    }
    mine.push(now);
    this.#recent.set(clientId, mine);
    this.#recentTotal.push(now);
  }

  /** The document, within one deadline for everything; a FetchFailure (for the log) otherwise. */
  async #fetch(clientId: string): Promise<unknown> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new FetchFailure(`no complete answer within ${this.#options.timeoutMs} ms`)),
      this.#options.timeoutMs,
    );
    try {
      const url = new URL(clientId);
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      const addresses = isIP(hostname)
        ? [hostname]
        : await beforeDeadline(
            this.#options.lookup(hostname).catch((error: unknown) => {
              throw new FetchFailure(`cannot resolve ${hostname}: ${String((error as Error)?.message ?? error)}`);
            }),
            deadline.signal,
          );
      if (addresses.length === 0) throw new FetchFailure(`cannot resolve ${hostname}`);
      // Every answer must be allowed, or a name could mix a public and a private address.
      const blocked = addresses.filter((address) => !this.#options.allowAddress(address));
      if (blocked.length > 0) {
        throw new FetchFailure(`${hostname} resolves to a non-public address (${blocked.join(', ')})`);
      }
      return await this.#get(url, hostname, addresses[0]!, deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  #get(url: URL, hostname: string, address: string, deadline: AbortSignal): Promise<unknown> {
    const { maxBytes } = this.#options;
    const tooLarge = () => refused(`the document is larger than ${maxBytes} bytes`);
    return new Promise((resolve, reject) => {
      let settled = false;
      const onDeadline = () => fail(deadline.reason as FetchFailure);
      /** Ends the fetch once, whatever comes first; the connection is dropped either way. */
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        deadline.removeEventListener('abort', onDeadline);
        req.destroy();
        outcome();
      };
      const fail = (reason: string | FetchFailure) =>
        settle(() => reject(typeof reason === 'string' ? new FetchFailure(reason) : reason));
      const req = this.#options.request(
        {
          host: address,
          port: url.port || 443,
          path: url.pathname + url.search,
          method: 'GET',
          servername: isIP(hostname) ? undefined : hostname,
          headers: { host: url.host, accept: 'application/json' },
        } as RequestOptions,
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) return fail(`answered HTTP ${status}; redirects are not followed`);
          if (status !== 200) return fail(`answered HTTP ${status}`);
          // The content is the client's own to fix, so what is wrong with it may be said.
          if (Number(res.headers['content-length']) > maxBytes) return settle(() => reject(tooLarge()));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) return settle(() => reject(tooLarge()));
            chunks.push(chunk);
          });
          res.once('end', () =>
            settle(() => {
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
              } catch {
                reject(refused('the document is not JSON'));
              }
            }),
          );
          res.once('error', (error) => fail(`reading the document failed: ${error.message}`));
          res.once('close', () => fail('the connection closed before the document ended'));
        },
      );
      req.once('error', (error) => fail(`the connection failed: ${error.message}`));
      if (deadline.aborted) return onDeadline();
      deadline.addEventListener('abort', onDeadline, { once: true });
      req.end();
    });
  }
}

/** Waits for `work`, or rejects with the deadline's reason once it passes. */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  if (deadline.aborted) return Promise.reject(deadline.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(deadline.reason as Error);
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        deadline.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        deadline.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
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
