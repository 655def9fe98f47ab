import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';

export interface NodeFetch {
  fetch: typeof fetch;
  close(): void;
}

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * A minimal `fetch` over node:http with keep-alive agents, handed to the SDK's HTTP client
 * transports. The global fetch (undici) costs about 0.5 ms more per loopback round trip on the
 * machines we measured, which is most of the gateway's budget for an extra hop (see bench/).
 * It supports what the transports use: method, headers, string/bytes body, abort signal, and a
 * streamed response body (SSE).
 */
export function createNodeFetch(): NodeFetch {
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  const nodeFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) return fetch(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      // Streams, forms and blobs are not used by the MCP transports; let the platform handle them.
      return fetch(input, init);
    }
    return new Promise<Response>((resolve, reject) => {
      const https = url.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(url, {
        method,
        headers,
        agent: https ? httpsAgent : httpAgent,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      req.once('response', (res: IncomingMessage) => {
        const responseHeaders = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
        const status = res.statusCode ?? 0;
        const hasBody = method !== 'HEAD' && !NO_BODY_STATUS.has(status);
        if (!hasBody) res.resume();
        resolve(
          new Response(hasBody ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null, {
            status,
            statusText: res.statusMessage ?? '',
            headers: responseHeaders,
          }),
        );
      });
      req.once('error', (error) => reject(init.signal?.aborted ? (init.signal.reason ?? error) : error));
      if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else req.end();
    });
  };

  return {
    fetch: nodeFetch as typeof fetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
