import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  PROTOCOL_VERSION_META_KEY,
  SdkErrorCode,
  SdkHttpError,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/client';
import { isRequestMessage, looksLikeJsonRpc } from '../shared/json-rpc.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface HttpClientTransportOptions {
  /** Extra headers for every request (the backend's configured credentials). */
  headers?: Record<string, string>;
  /** Delay before re-opening the server's GET stream after it ends; doubled per failure up to 30 s. */
  reconnectBaseMs?: number;
}

const MAX_ERROR_BODY = 4096;

/** Failed attempts in a row at resuming a POST's stream before its request is given up with an error. */
const MAX_RESUME_FAILURES = 5;

/**
 * The JSON-RPC error a request gets when its stream ended before the answer and could not be
 * resumed: the SDK's ConnectionClosed, as for any connection lost under a request.
 */
const CONNECTION_CLOSED = -32000;

/**
 * What the transport tells about a message it delivers besides the message: a server request or
 * notification that arrived on the SSE response of one of our POSTs carries the id of the request
 * that POST sent. MCP 2025-11-25 basic/transports, "Sending Messages to the Server" 6: messages
 * the server sends on that stream SHOULD relate to that request, so the backend can tell which
 * client's call a sampling or elicitation request belongs to. (The SDK's own handler `extra` has
 * no such field; the backend reads it before the SDK sees the message.)
 */
export interface RelatedMessageExtra extends MessageExtraInfo {
  relatedRequestId?: RequestId;
}

/**
 * A request the server refused with an HTTP error status. It is the SDK 2.x error for one
 * (`SdkHttpError`, with `status` and the body as `data.text`), which the client's version
 * negotiation reads: a 4xx to the `server/discover` probe means a 2025-era server. Beyond it, it
 * carries what callers decide on without reading the message: the JSON-RPC error of the answer's
 * body, when it is one, and the session id the request was sent with.
 */
export class HttpStatusError extends SdkHttpError {
  readonly rpcError: { code: number; message: string } | undefined;
  readonly sessionId: string | undefined;

  constructor(status: number, body: string, sessionId: string | undefined) {
    super(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint (HTTP ${status}): ${body}`, {
      status,
      statusText: '',
      text: body,
    });
    this.name = 'HttpStatusError';
    this.rpcError = rpcErrorOf(body);
    this.sessionId = sessionId;
  }
}

/**
 * Header names the transport derives from the session or the message itself; a caller's
 * per-request headers (TransportSendOptions.headers) never override them, so header and body agree.
 */
const RESERVED_HEADERS = new Set([
  'content-type',
  'accept',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'mcp-session-id',
]);

/**
 * Which parameter a method's `Mcp-Name` header mirrors (2026-07-28 Streamable HTTP, "Standard
 * headers": `params.name` for tools/call and prompts/get, `params.uri` for resources/read, the
 * task's id for the Tasks extension's methods).
 */
const MCP_NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/**
 * The client side of MCP Streamable HTTP over node:http with keep-alive, used for the gateway's
 * hop to HTTP backends.
 *
 * Why not the SDK's transport: it goes through fetch and web streams (Response, TextDecoderStream,
 * an SSE TransformStream) for every message; on loopback that costs more than the whole latency
 * budget of the extra hop (bench/). This one parses JSON or SSE straight off the socket. It keeps
 * the SDK's error type (SdkHttpError with the HTTP status) so callers, and the SDK client's
 * version negotiation, can tell a 404 session expiry or a 4xx "not Streamable HTTP" from a
 * network failure.
 *
 * Both eras: a 2025 session (Mcp-Session-Id, MCP-Protocol-Version from initialize, the GET stream
 * for the server's own messages), and the stateless 2026-07-28 revision, where each request says
 * its version in `_meta` and the headers repeat it (see #eraHeaders).
 */
export class NodeStreamableHttpClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: RelatedMessageExtra) => void;
  sessionId?: string;
  /**
   * One POST per request: on a 2026-07-28 connection the SDK client cancels a request by aborting
   * its `requestSignal` (closing that POST is the revision's cancellation), which send() honours.
   */
  readonly hasPerRequestStream = true;

  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #inflight = new Set<ClientRequest>();
  readonly #reconnectBaseMs: number;
  #protocolVersion: string | undefined;
  #stream: ClientRequest | undefined;
  #streamTimer: NodeJS.Timeout | undefined;
  #streamFailures = 0;
  /** Id of the last event on the GET stream, sent back as Last-Event-ID when it is re-opened. */
  #lastEventId: string | undefined;
  /** The server's requested reconnection delay (`retry:`, on any of its streams), if it sent one. */
  #retryMs: number | undefined;
  /** Requests whose POST stream is being followed, so a cancellation stops resuming it. */
  readonly #followed = new Map<RequestId, () => void>();
  #closed = false;

  constructor(url: URL, options: HttpClientTransportOptions = {}) {
    this.#url = url;
    this.#headers = options.headers ?? {};
    this.#reconnectBaseMs = options.reconnectBaseMs ?? 1_000;
    const https = url.protocol === 'https:';
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? httpsRequest : httpRequest;
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  #baseHeaders(accept: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.#headers, accept };
    if (this.sessionId) headers['mcp-session-id'] = this.sessionId;
    if (this.#protocolVersion) headers['mcp-protocol-version'] = this.#protocolVersion;
    return headers;
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('Transport closed'));
    if ('method' in message && message.method === 'notifications/cancelled') {
      // A cancelled request gets no answer (basic/utilities/cancellation): stop waiting for one.
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined) this.#followed.get(requestId)?.();
    }
    const body = JSON.stringify(message);
    const sentSession = this.sessionId;
    const headers = this.#baseHeaders('application/json, text/event-stream');
    for (const [name, value] of Object.entries(options?.headers ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    const modern = eraHeaders(message, headers);
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    const signal = options?.requestSignal;
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const req = this.#request(this.#url, { method: 'POST', headers, agent: this.#agent });
      this.#inflight.add(req);
      if (signal) {
        // The caller gave up on this request (2026-07-28 cancellation): close its POST and stream.
        const abort = () => {
          req.destroy();
          resolve();
        };
        signal.addEventListener('abort', abort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', abort));
      }
      req.once('close', () => this.#inflight.delete(req));
      req.once('error', (error) => reject(error));
      req.once('response', (res) => {
        const session = res.headers['mcp-session-id'];
        if (typeof session === 'string') this.sessionId = session;
        const status = res.statusCode ?? 0;
        if (status === 202) {
          res.resume();
          resolve();
          // The server may now accept the GET stream for its own notifications (list_changed…).
          if (!isRequestMessage(message) && 'method' in message && message.method === 'notifications/initialized') {
            this.#openStream();
          }
          return;
        }
        if (status < 200 || status >= 300) {
          readText(res, MAX_ERROR_BODY).then((text) => {
            // 2026-07-28 Streamable HTTP: a server refusing a request (bad params, a header that
            // disagrees with the body) answers 400 with the JSON-RPC error; that is the request's answer.
            const answer = modern && status === 400 ? errorResponseFor(message, text) : undefined;
            if (answer) {
              this.onmessage?.(answer);
              resolve();
              return;
            }
            reject(new HttpStatusError(status, text, sentSession));
          }, reject);
          return;
        }
        const type = res.headers['content-type'] ?? '';
        if (type.includes('text/event-stream')) {
          // Resolved once the stream is open, like the SDK's transport: responses arrive as events.
          resolve();
          if (isRequestMessage(message) && !modern && this.sessionId) this.#followPost(res, message.id);
          else this.#consumeSse(res, isRequestMessage(message) ? { related: message.id } : {});
          // The SDK client learns that a request's stream ended (a subscriptions/listen stream the
          // server dropped), unless it closed the stream itself.
          const ended = options?.onRequestStreamEnd;
          if (ended) res.once('close', () => signal?.aborted || this.#closed || ended());
          return;
        }
        readText(res).then((text) => {
          if (text.length > 0) this.#deliver(text);
          resolve();
        }, reject);
      });
      req.end(body);
    });
  }

  /** DELETE the session, so the server can free it (spec: clients SHOULD when they leave). */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    await new Promise<void>((resolve) => {
      const req = this.#request(this.#url, { method: 'DELETE', headers: this.#baseHeaders('*/*'), agent: this.#agent });
      req.once('response', (res) => {
        res.resume();
        resolve();
      });
      req.once('error', () => resolve());
      req.setTimeout(2_000, () => req.destroy());
      req.end();
    });
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#streamTimer);
    this.#stream?.destroy();
    for (const stop of [...this.#followed.values()]) stop();
    for (const req of this.#inflight) req.destroy();
    this.#inflight.clear();
    this.#agent.destroy();
    this.onclose?.();
  }

  #deliver(text: string, extra?: RelatedMessageExtra, seen?: (message: object) => void): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      this.onerror?.(new Error(`Backend sent invalid JSON: ${(error as Error).message}`));
      return;
    }
    for (const item of Array.isArray(json) ? json : [json]) {
      if (looksLikeJsonRpc(item)) seen?.(item as object);
      if (!looksLikeJsonRpc(item)) this.onerror?.(new Error('Backend sent a message that is not JSON-RPC 2.0'));
      else if (extra && 'method' in (item as object)) this.onmessage?.(item as JSONRPCMessage, extra);
      else this.onmessage?.(item as JSONRPCMessage);
    }
  }

  /**
   * Reads a text/event-stream body (WHATWG HTML §9.2.6). MCP sends its messages as events of the
   * default type `message`; other event types are not ours and are skipped. `onEvent` also sees
   * each event's id and `onRetry` the server's reconnection time, which the GET stream keeps;
   * `related` is the id of the request a POST's stream answers (see RelatedMessageExtra).
   */
  #consumeSse(
    res: IncomingMessage,
    hooks: {
      onEvent?: (event: EventSourceMessage) => void;
      onRetry?: (ms: number) => void;
      related?: RequestId;
      /** Sees each JSON-RPC message delivered. */
      seen?: (message: object) => void;
    } = {},
  ): void {
    res.setEncoding('utf8');
    const extra: RelatedMessageExtra | undefined =
      hooks.related === undefined ? undefined : { relatedRequestId: hooks.related };
    const parser = createParser({
      onEvent: (event) => {
        hooks.onEvent?.(event);
        // An event without data (a priming event) carries only its id and retry.
        if (event.data === '') return;
        if (event.event === undefined || event.event === 'message') this.#deliver(event.data, extra, hooks.seen);
      },
      ...(hooks.onRetry ? { onRetry: hooks.onRetry } : {}),
    });
    res.on('data', (chunk: string) => parser.feed(chunk));
    res.once('error', (error) => this.onerror?.(error));
  }

  /**
   * Reads the SSE stream that answers one request of a 2025 session, and resumes it when it ends
   * before the answer (MCP 2025-11-25 basic/transports, "Resumability and Redelivery" and "Polling
   * SSE streams"): once the server gave an event id, the client waits the server's `retry:` time
   * (else its own base delay) and GETs with that id in Last-Event-ID, for the rest of that stream;
   * again each time the resumed stream ends early, which is how a server makes a client poll.
   * Attempts that fail (a network error, a refusal) back off, and after MAX_RESUME_FAILURES in a
   * row, or a 4xx, the request is answered with an error here, so it does not wait for its
   * timeout. A server that gave no id cannot be resumed: the request keeps waiting as before.
   */
  #followPost(first: IncomingMessage, related: RequestId): void {
    let lastEventId: string | undefined;
    let answered = false;
    let stopped = false;
    let failures = 0;
    let timer: NodeJS.Timeout | undefined;
    let current: ClientRequest | undefined;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      current?.destroy();
      this.#followed.delete(related);
    };
    this.#followed.set(related, stop);
    const giveUp = (why: string) => {
      stop();
      const message = `Backend's response stream ended before the answer and could not be resumed: ${why}`;
      this.onmessage?.({ jsonrpc: '2.0', id: related, error: { code: CONNECTION_CLOSED, message } });
    };
    const read = (res: IncomingMessage) => {
      this.#consumeSse(res, {
        related,
        onEvent: (event) => {
          if (event.id) lastEventId = event.id;
        },
        onRetry: (ms) => {
          this.#retryMs = ms;
        },
        seen: (message) => {
          const { id } = message as { id?: unknown };
          if (id === related && ('result' in message || 'error' in message)) {
            answered = true;
            // A resumed stream may stay open after the answer (the SDK server keeps it for more):
            // it has nothing more for us.
            stop();
          }
        },
      });
      res.once('close', () => {
        if (answered || stopped || this.#closed) return;
        if (lastEventId === undefined) {
          this.#followed.delete(related);
          return;
        }
        schedule();
      });
    };
    const schedule = () => {
      const base = this.#retryMs ?? this.#reconnectBaseMs;
      const delay = Math.min(30_000, base * 2 ** Math.min(failures, 5));
      timer = setTimeout(resume, delay);
      timer.unref();
    };
    const failed = (why: string) => {
      if (stopped || this.#closed) return;
      if (++failures >= MAX_RESUME_FAILURES) giveUp(why);
      else schedule();
    };
    const resume = () => {
      if (stopped || this.#closed) return;
      const headers = this.#baseHeaders('text/event-stream');
      headers['last-event-id'] = lastEventId!;
      const req = this.#request(this.#url, { method: 'GET', headers, agent: this.#agent });
      current = req;
      this.#inflight.add(req);
      req.once('close', () => this.#inflight.delete(req));
      req.once('error', (error) => failed(error.message));
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200 && (res.headers['content-type'] ?? '').includes('text/event-stream')) {
          failures = 0;
          read(res);
          return;
        }
        res.resume();
        // A 4xx will not change on retry (405: no stream to resume; 404: the session is gone).
        if (status >= 400 && status < 500) giveUp(`HTTP ${status}`);
        else failed(`HTTP ${status}`);
      });
      req.end();
    };
    read(first);
  }

  #openStream(): void {
    if (this.#closed || this.#stream) return;
    const headers = this.#baseHeaders('text/event-stream');
    // MCP Streamable HTTP, resumability: a client resuming the GET stream SHOULD send the id of the
    // last event it received, so the server can replay what was sent while it was away.
    if (this.#lastEventId) headers['last-event-id'] = this.#lastEventId;
    const req = this.#request(this.#url, { method: 'GET', headers, agent: this.#agent });
    this.#stream = req;
    const ended = (retry: boolean) => {
      if (this.#stream !== req) return;
      this.#stream = undefined;
      if (!retry || this.#closed) return;
      this.#streamFailures++;
      // The server's `retry:` is its reconnection time (WHATWG HTML §9.2.6): it replaces our base delay.
      const base = this.#retryMs ?? this.#reconnectBaseMs;
      const delay = Math.min(30_000, base * 2 ** Math.min(this.#streamFailures - 1, 5));
      this.#streamTimer = setTimeout(() => this.#openStream(), delay);
      this.#streamTimer.unref();
    };
    req.once('error', () => ended(true));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status === 405) {
        // Spec: the server does not offer a stream for server-initiated messages; nothing to do.
        res.resume();
        ended(false);
        return;
      }
      if (status !== 200 || !(res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.resume();
        ended(status >= 500 || status === 0);
        return;
      }
      this.#streamFailures = 0;
      this.#consumeSse(res, {
        onEvent: (event) => {
          if (event.id !== undefined) this.#lastEventId = event.id;
        },
        onRetry: (ms) => {
          this.#retryMs = ms;
        },
      });
      res.once('end', () => ended(true));
      res.once('close', () => ended(true));
    });
    req.end();
  }
}

/**
 * The 2026-07-28 standard headers of one POST (Streamable HTTP, "Standard headers"): a request
 * that carries its protocol version in `_meta` (the SDK client adds it to every request once the
 * modern era is negotiated, and to its `server/discover` probe) also says it in
 * `MCP-Protocol-Version`, its method in `Mcp-Method` and, for the methods that name a target, that
 * name in `Mcp-Name`, so the server can route without reading the body. 2025 traffic has no such
 * `_meta` key and is sent as before. Returns whether the message is such a modern request.
 */
function eraHeaders(message: JSONRPCMessage, headers: Record<string, string>): boolean {
  if (!isRequestMessage(message)) return false;
  const params = message.params as Record<string, unknown> | undefined;
  const meta = params?._meta as Record<string, unknown> | undefined;
  const version = meta?.[PROTOCOL_VERSION_META_KEY];
  if (typeof version !== 'string') return false;
  headers['mcp-protocol-version'] = version;
  headers['mcp-method'] = message.method;
  const source = MCP_NAME_SOURCE[message.method];
  const name = source === undefined ? undefined : params?.[source];
  if (typeof name === 'string') headers['mcp-name'] = encodeHeaderValue(name);
  return true;
}

/**
 * A header value as the 2026-07-28 revision sends one: as is when it is printable ASCII (or tab)
 * without leading or trailing space and does not look encoded, else `=?base64?<UTF-8 bytes in base64>?=` (Streamable HTTP, "Value
 * encoding"), so a tool or resource name in any script survives the header.
 */
function encodeHeaderValue(value: string): string {
  const plain =
    /^[\t\x20-\x7e]+$/.test(value) &&
    value === value.trim() &&
    !(value.startsWith('=?base64?') && value.endsWith('?='));
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The body as the JSON-RPC error response to `message`, if it is one (answering that request's id). */
function errorResponseFor(message: JSONRPCMessage, body: string): JSONRPCMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!looksLikeJsonRpc(json) || !('id' in message)) return undefined;
  const answer = json as { id?: unknown; error?: { code?: unknown } };
  if (answer.id !== message.id || typeof answer.error?.code !== 'number') return undefined;
  return json as JSONRPCMessage;
}

function readText(res: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    res.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(size > limit ? text.slice(0, limit) : text);
    });
    res.once('error', reject);
  });
}

/** The `error` member of a JSON-RPC response body (JSON-RPC 2.0 §5.1), if the body is one. */
function rpcErrorOf(body: string): { code: number; message: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = (json as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
  if (typeof error?.code !== 'number' || typeof error.message !== 'string') return undefined;
  return { code: error.code, message: error.message };
}
