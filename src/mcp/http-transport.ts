import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ProtocolErrorCode,
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import { preserializedResult, sendJsonRpcError, singleRequestId } from '../shared/json-rpc.js';
import { errorResponse, judgeMessages, type WireFault } from './message-validation.js';
import { allowsBatches, checkVersionHeader, primesStreams } from './revision-rules.js';
import {
  eventSeq,
  SessionEvents,
  SSE_HEADERS,
  StandaloneStream,
  type ReplayLimits,
  type ReplayLog,
} from './sse-stream.js';

/** One POST that carried requests: its response is either a single JSON body or an SSE stream. */
interface PostStream {
  /**
   * Where its events go: the POST's response, or the GET that resumed the stream after the client
   * lost it. A lost response stays here, closed, until a GET takes its place.
   */
  res: ServerResponse;
  sse: boolean;
  /** An SSE stream's events, for a client resuming it with GET and Last-Event-ID (sse-stream.ts). */
  log: ReplayLog | undefined;
  /** When its last answer went out (clock time); its log is kept a while after, see POST_REPLAY_KEEP_MS. */
  finishedAt: number | undefined;
  /** Whether the client accepts text/event-stream, so a JSON-mode answer may still become a stream. */
  canStream: boolean;
  batch: boolean;
  /** Requests on this POST not answered yet; the response ends when it reaches 0. */
  pending: number;
  /** JSON mode: the answers so far, serialized, sent together once none is pending. */
  responses: string[];
}

/** A request received and not yet answered, cancelled or timed out: its id is taken in the session. */
interface InFlight {
  request: JSONRPCRequest;
  /** Where its answer goes; undefined once the client closed that HTTP response. */
  stream: PostStream | undefined;
  /** When the backstop answers it instead (clock time); pushed back whenever it shows progress. */
  deadline: number;
  /** Set when `direct` answers it, to abort it. */
  direct: AbortController | undefined;
}

/**
 * Answers one request without the SDK's protocol layer, given the signal that cancellation, the
 * backstop timeout or the session's end aborts; returns undefined when it does not take the
 * request (the SDK then does).
 */
export type DirectHandler = (request: JSONRPCRequest, signal: AbortSignal) => Promise<unknown> | undefined;

/**
 * Judges a well-formed client message before anything acts on it (the session's grant gate):
 * undefined lets it through; a fault refuses a request with that error, and drops a notification.
 */
export type Admission = (message: JSONRPCRequest | JSONRPCNotification) => (WireFault & { data?: unknown }) | undefined;

export interface TransportOptions {
  sessionId: string;
  /** Clock time in milliseconds (the gateway's injected clock). */
  now: () => number;
  /** The backstop: a request still unanswered this long after its last sign of life is answered with an error. */
  requestTimeoutMs: number;
  /** How much of the standalone stream is kept for a client resuming it. Default: DEFAULT_REPLAY_LIMITS. */
  replayLimits?: ReplayLimits;
}

const MAX_BATCH = 100;

/**
 * How long a POST stream's events are kept after its last answer, and for how many such streams
 * per session: a client whose connection dropped just before the answer reconnects after its
 * backoff (the SDK 1.x client: 1 s, then doubling) and gets the answer from the log.
 */
const POST_REPLAY_KEEP_MS = 30_000;
const MAX_FINISHED_POST_LOGS = 32;

/**
 * JSON-RPC codes of the transport's own answers. -32001 was the SDK 1.x RequestTimeout (and is the
 * code a backend timeout gets); -32000 its ConnectionClosed (SDK 2.x has string codes for these,
 * which never go on the wire). MCP defines no code for a cancelled request; -32800 is the one LSP
 * uses for it, outside JSON-RPC's reserved range (JSON-RPC 2.0 §5.1).
 */
export const TRANSPORT_ERROR_CODES = {
  requestTimeout: -32001,
  sessionClosed: -32000,
  requestCancelled: -32800,
} as const;

function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return 'id' in message && ('result' in message || 'error' in message);
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes(type) || accept.includes('*/*');
}

/**
 * The server side of MCP Streamable HTTP over plain node:http, for one session.
 *
 * Why not the SDK's transport: it adapts every request to web-standard Request/Response objects
 * and always answers over an SSE stream whose headers and body leave in separate writes. On the
 * machines we benchmark, each extra socket write on loopback costs more than the gateway's whole
 * latency budget. Here a POST is answered with one plain JSON body in a single write, and with SSE
 * only when the request asked for progress (so notifications must stream), the client accepts
 * nothing else, or a backend's question (sampling, elicitation, roots) must reach the client before
 * the answer (the response then turns into a stream, see `send`). All are allowed by the spec
 * (Streamable HTTP, "Sending Messages to the Server").
 *
 * Every message is judged (`checkMessage`) before the SDK sees it, and every request gets an answer:
 * its result, a refusal, an error when it is cancelled (JSON mode) or when the backstop runs out,
 * or when the session closes under it.
 */
export class NodeStreamableHttpTransport implements Transport {
  readonly sessionId: string;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  /** Takes a lone request (not in a batch) before the SDK sees it, when it can; see DirectHandler. */
  direct?: DirectHandler;
  /** Every accepted request and notification passes it before the SDK or `direct` sees it; see Admission. */
  admit?: Admission;
  /**
   * Whether a notification the server sends may go out at all (deny by default: the session's
   * table of notifications); others are not sent. Undefined: all go out.
   */
  sends?: (method: string) => boolean;

  readonly #now: () => number;
  readonly #requestTimeoutMs: number;
  readonly #inFlight = new Map<RequestId, InFlight>();
  readonly #events: SessionEvents;
  readonly #standalone: StandaloneStream;
  /** SSE streams of POSTs a client may resume: those still answering, and finished ones for a while. */
  readonly #postStreams = new Set<PostStream>();
  #initialized = false;
  /** The protocol version the SDK answered initialize with; undefined until then. */
  #negotiated: string | undefined;
  #closed = false;
  #lastActivity: number;

  constructor(options: TransportOptions) {
    this.sessionId = options.sessionId;
    this.#now = options.now;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#lastActivity = options.now();
    this.#events = new SessionEvents(options.replayLimits);
    this.#standalone = new StandaloneStream(this.#events, { 'mcp-session-id': this.sessionId });
  }

  /** The protocol version negotiated at initialize (undefined before the SDK answered it). */
  get protocolVersion(): string | undefined {
    return this.#negotiated;
  }

  async start(): Promise<void> {}

  /** Idle: no request for `idleMs`, none in flight and no open stream on which the server could still talk. */
  isIdle(now: number, idleMs: number): boolean {
    const streaming = this.#standalone.open || this.#inFlight.size > 0;
    return !streaming && now - this.#lastActivity > idleMs;
  }

  /** When the client last sent something (clock time), for least-recently-used eviction. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /**
   * The requests in flight whose response is an SSE stream, on which related messages can go (kept
   * for the client to resume when it lost the stream).
   */
  streamingRequests(): JSONRPCRequest[] {
    const found: JSONRPCRequest[] = [];
    for (const entry of this.#inFlight.values()) {
      if (entry.stream?.sse) found.push(entry.request);
    }
    return found;
  }

  /** Handles a POST whose body was already parsed (and size-checked) by the HTTP layer. */
  handlePost(req: IncomingMessage, res: ServerResponse, body: unknown, authInfo?: AuthInfo): void {
    const now = this.#now();
    this.#lastActivity = now;
    const type = req.headers['content-type'] ?? '';
    if (!type.includes('application/json')) {
      const message = 'Unsupported Media Type: Content-Type must be application/json';
      sendJsonRpcError(res, 415, -32000, message, singleRequestId(body));
      return;
    }
    if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
      const message = 'Not Acceptable: accept application/json or text/event-stream';
      sendJsonRpcError(res, 406, -32000, message, singleRequestId(body));
      return;
    }
    // The endpoint opens a session only for a valid lone initialize, and hands it over first; that
    // POST has no protocol version to check yet: it negotiates one.
    const opening = !this.#initialized;
    if (!opening && !this.#checkProtocolVersion(req, res, singleRequestId(body))) return;
    const batch = Array.isArray(body);
    if (batch && !allowsBatches(this.#negotiated)) {
      const message = `Invalid Request: JSON-RPC batches are not supported in protocol version ${this.#negotiated} (removed in 2025-06-18)`;
      sendJsonRpcError(res, 400, -32600, message);
      return;
    }
    const raw = batch ? (body as unknown[]) : [body];
    if (raw.length === 0 || raw.length > MAX_BATCH) {
      sendJsonRpcError(res, 400, -32600, `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages`);
      return;
    }

    // Judge every message before acting on any. Accepted ones keep their order for dispatch.
    const { accepted, requests, refusals, dropped } = judgeMessages(raw, {
      opening,
      inFlight: (id) => this.#inFlight.has(id),
      ...(this.admit && { admit: this.admit }),
    });
    if (opening) this.#initialized = true;

    const extra: MessageExtraInfo = authInfo ? { authInfo } : {};
    if (requests.length === 0 && refusals.length === 0) {
      if (dropped) {
        // Streamable HTTP: input that is only notifications or responses and cannot be accepted
        // gets an HTTP error status, with a JSON-RPC error that has no id.
        sendJsonRpcError(res, 400, dropped.code, dropped.message);
        return;
      }
      // Only notifications or responses: accepted, nothing to answer (spec: 202 with no body).
      res.writeHead(202, { 'mcp-session-id': this.sessionId }).end();
      for (const message of accepted) this.#dispatch(message, extra);
      return;
    }
    const wantsProgress = requests.some((r) => r.params?._meta?.progressToken !== undefined);
    const sse = !accepts(req, 'application/json') || (wantsProgress && accepts(req, 'text/event-stream'));
    const canStream = accepts(req, 'text/event-stream');
    const stream: PostStream = {
      res,
      sse,
      canStream,
      batch,
      pending: requests.length,
      responses: [],
      log: undefined,
      finishedAt: undefined,
    };
    const deadline = now + this.#requestTimeoutMs;
    for (const request of requests) {
      this.#inFlight.set(request.id, { request, stream, deadline, direct: undefined });
    }
    if (requests.length > 0) {
      res.once('close', () => {
        // The client went away. Per spec this is not a cancellation, so the requests run to
        // completion (their ids stay taken until then). On an SSE stream their events go on into
        // its log, for the client to resume (basic/transports, "Resumability and Redelivery"); a
        // JSON answer has no ids to resume from, and is dropped.
        if (stream.sse) return;
        for (const request of requests) {
          const entry = this.#inFlight.get(request.id);
          if (entry?.stream === stream) entry.stream = undefined;
        }
      });
    }
    if (sse) {
      res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
      this.#openLog(stream);
    }
    for (const refusal of refusals) this.#write(stream, refusal);
    if (requests.length === 0) {
      this.#finish(stream);
      for (const message of accepted) this.#dispatch(message, extra);
      return;
    }
    if (!batch && this.#answerDirectly(requests[0]!)) return;
    for (const message of accepted) this.#dispatch(message, extra);
  }

  #dispatch(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if ('method' in message && message.method === 'notifications/cancelled') {
      const { requestId, reason } = (message.params ?? {}) as { requestId?: RequestId; reason?: string };
      if (requestId !== undefined) this.#cancel(requestId, reason);
    }
    this.onmessage?.(message, extra);
  }

  /**
   * A cancelled request is ended here, whoever runs it, and its id is free again. MCP 2025-11-25
   * basic/utilities/cancellation, Behavior Requirements 4: the receiver SHOULD stop processing it,
   * free its resources and not send a response. So on an SSE stream nothing is written for it, and
   * the stream ends once nothing else on it is pending (basic/transports, "Sending Messages to the
   * Server" 6 ends a stream after its response; this one will have none). A JSON-mode POST still
   * needs a body: item 5 there answers a POST carrying a request with `text/event-stream` or with
   * `application/json` holding one JSON object, and 202 is for notifications and responses only.
   * It gets an error for the cancelled id, which Behavior Requirements 6 tells the client to
   * ignore. The SDK, which gets the notification right after, aborts its own handler.
   */
  #cancel(id: RequestId, reason: string | undefined): void {
    const entry = this.#inFlight.get(id);
    // MCP lifecycle: initialize cannot be cancelled.
    if (!entry || entry.request.method === 'initialize') return;
    this.#inFlight.delete(id);
    entry.direct?.abort(reason);
    const stream = entry.stream;
    if (!stream) return;
    const message = reason ? `Request cancelled: ${reason}` : 'Request cancelled';
    if (!stream.sse) this.#write(stream, errorResponse(id, { code: TRANSPORT_ERROR_CODES.requestCancelled, message }));
    if (--stream.pending === 0) this.#finish(stream);
  }

  /**
   * The backstop: answers every request past its deadline with a timeout error and stops its
   * handler (the direct one by abort; the SDK's by the cancellation it would get from the client),
   * which cancels the backend call too. Called by the endpoint's sweeper.
   */
  expireRequests(now: number): void {
    this.#dropOldLogs(now);
    for (const [id, entry] of this.#inFlight) {
      if (entry.deadline > now) continue;
      this.#inFlight.delete(id);
      const message = `Cortex Gateway did not complete ${entry.request.method} within ${this.#requestTimeoutMs} ms`;
      if (entry.direct) entry.direct.abort(new Error(message));
      else {
        const params = { requestId: id, reason: message };
        this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params } as JSONRPCMessage);
      }
      if (entry.stream)
        this.#answer(entry.stream, errorResponse(id, { code: TRANSPORT_ERROR_CODES.requestTimeout, message }));
    }
  }

  /**
   * Runs a request through `direct` if it takes it, answering as the SDK's protocol layer would:
   * `{ result, jsonrpc, id }`, or an error built from the thrown error's code, message and data,
   * and nothing at all once the request was cancelled or timed out (both answered it already).
   */
  #answerDirectly(request: JSONRPCRequest): boolean {
    if (!this.direct) return false;
    const controller = new AbortController();
    const pending = this.direct(request, controller.signal);
    if (!pending) return false;
    const { id } = request;
    this.#inFlight.get(id)!.direct = controller;
    pending.then(
      (result) => {
        if (!controller.signal.aborted) void this.send({ result, jsonrpc: '2.0', id } as JSONRPCMessage);
      },
      (error: { code?: unknown; message?: unknown; data?: unknown }) => {
        if (controller.signal.aborted) return;
        const code = Number.isSafeInteger(error.code) ? (error.code as number) : ProtocolErrorCode.InternalError;
        const failure = {
          code,
          message: error.message ?? 'Internal error',
          ...(error.data !== undefined && { data: error.data }),
        };
        void this.send({ jsonrpc: '2.0', id, error: failure } as JSONRPCMessage);
      },
    );
    return true;
  }

  /**
   * Opens the standalone SSE stream for server-initiated messages (list_changed, logs…), or resumes
   * it after the client's `Last-Event-ID` (sse-stream.ts).
   */
  handleGet(req: IncomingMessage, res: ServerResponse): void {
    this.#lastActivity = this.#now();
    if (!accepts(req, 'text/event-stream')) {
      sendJsonRpcError(res, 406, -32000, 'Not Acceptable: GET requires Accept: text/event-stream');
      return;
    }
    if (!this.#checkProtocolVersion(req, res, null)) return;
    const header = req.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? header[0] : header;
    if (lastEventId !== undefined && this.#events.isPostEventId(lastEventId)) {
      this.#resumePost(res, lastEventId);
      return;
    }
    const attached = this.#standalone.attach(res, lastEventId, primesStreams(this.#negotiated));
    if (!attached.ok) sendJsonRpcError(res, attached.status, -32000, attached.message);
  }

  async handleDelete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#checkProtocolVersion(req, res, null)) return;
    res.writeHead(200, { 'mcp-session-id': this.sessionId }).end();
    await this.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return;
    if (isResponse(message)) {
      const entry = this.#inFlight.get(message.id);
      // Not in flight: cancelled or timed out (answered already), or an id we never received.
      if (!entry) return;
      this.#inFlight.delete(message.id);
      if (entry.request.method === 'initialize' && 'result' in message) {
        this.#negotiated = (message.result as { protocolVersion?: string }).protocolVersion;
      }
      if (entry.stream) this.#answer(entry.stream, message);
      return;
    }
    if (this.sends && 'method' in message && !('id' in message) && !this.sends(message.method)) return;
    // Notifications and server requests: on the stream of the request they relate to when it is
    // an SSE stream, otherwise on the standalone stream if the client opened one. Either way the
    // request shows life (progress, a question to the user), which pushes its backstop back: the
    // backend's own timeout likewise restarts on progress.
    const related = options?.relatedRequestId;
    const entry = related !== undefined ? this.#inFlight.get(related) : undefined;
    if (entry) entry.deadline = this.#now() + this.#requestTimeoutMs;
    const stream = entry?.stream;
    const request = 'id' in message;
    // A question for the client (sampling, elicitation, roots) must reach it before the answer it
    // is part of, so a POST that was to be answered with plain JSON becomes a stream, if the client
    // accepts one and nothing was sent yet. Only such requests do this: a notification related to
    // a JSON-mode request still goes to the standalone stream, and the common call stays one write.
    if (request && stream && !stream.sse && stream.canStream && !stream.res.headersSent) this.#toStream(stream);
    if (stream?.sse) {
      this.#emit(stream, serialize(message));
      return;
    }
    if (this.#standalone.open) {
      this.#standalone.send(serialize(message));
      return;
    }
    // A request nobody can receive would wait for an answer that never comes: fail it now, so what
    // asked it (a backend's question) is told at once. A notification with nowhere to go is kept
    // for a resuming GET (sse-stream.ts).
    if (request) throw new Error('the client has no open stream on which it could receive a request');
    this.#standalone.send(serialize(message));
  }

  /** Turns a POST's JSON-mode response into an SSE stream; answers collected so far go first. */
  #toStream(stream: PostStream): void {
    stream.sse = true;
    stream.res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    this.#openLog(stream);
    for (const response of stream.responses) this.#emit(stream, response);
    stream.responses = [];
  }

  /** Gives a POST's new SSE stream its replay log, and primes it (the priming id is the stream's first). */
  #openLog(stream: PostStream): void {
    stream.log = this.#events.postLog();
    this.#postStreams.add(stream);
    const priming = this.#events.postPriming(stream.log);
    if (primesStreams(this.#negotiated)) stream.res.write(priming);
  }

  /** One event on a POST's SSE stream: kept in its log, and sent if the client is still there. */
  #emit(stream: PostStream, data: string): void {
    const event = this.#events.postFrame(data, stream.log);
    if (!stream.res.writableEnded && !stream.res.destroyed) stream.res.write(event);
  }

  /**
   * Serves a GET whose Last-Event-ID names an event of a POST's stream: the events of that stream
   * after it, then, while its requests are still running, the rest of the stream as it comes, ending
   * after its last answer (basic/transports, "Resumability and Redelivery": replay on the stream
   * that was disconnected, never another's). The GET takes the place of the POST's response, which
   * is ended if the server still thinks it open. A finished stream with nothing after that id, or
   * one no longer kept, gets 405: the SDK 1.x client resumes after any stream that did not end with
   * a result (an error, a cancelled request), and a 405 makes it stop quietly.
   */
  #resumePost(res: ServerResponse, lastEventId: string): void {
    this.#dropOldLogs(this.#now());
    const seq = eventSeq(lastEventId, 'p')!;
    const stream = [...this.#postStreams].find((candidate) => candidate.log!.covers(seq));
    const replay = stream?.log!.after(seq) ?? [];
    const live = stream !== undefined && stream.finishedAt === undefined;
    if (!stream || (!live && replay.length === 0)) {
      sendJsonRpcError(res, 405, -32000, 'Method Not Allowed: that POST response stream has nothing more to send');
      return;
    }
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    if (replay.length > 0) res.write(replay.join(''));
    else res.flushHeaders();
    if (!live) {
      res.end();
      return;
    }
    const previous = stream.res;
    stream.res = res;
    if (!previous.writableEnded && !previous.destroyed) previous.end();
  }

  /** Forgets the logs of POST streams finished long enough ago, and the oldest beyond the cap. */
  #dropOldLogs(now: number): void {
    const finished = [...this.#postStreams].filter((stream) => stream.finishedAt !== undefined);
    finished.forEach((stream, index) => {
      const old = now - stream.finishedAt! > POST_REPLAY_KEEP_MS;
      if (old || finished.length - index > MAX_FINISHED_POST_LOGS) this.#postStreams.delete(stream);
    });
  }

  /**
   * Ends the session. Requests still in flight are answered with an error on their open responses
   * (so no HTTP request is left hanging), and their handlers aborted.
   */
  async close(reason = 'Session closed'): Promise<void> {
    if (this.#closed) return;
    for (const [id, entry] of this.#inFlight) {
      entry.direct?.abort();
      if (entry.stream) {
        this.#answer(entry.stream, errorResponse(id, { code: TRANSPORT_ERROR_CODES.sessionClosed, message: reason }));
      }
    }
    this.#inFlight.clear();
    this.#postStreams.clear();
    this.#closed = true;
    this.#standalone.end();
    // The SDK aborts its running request handlers when the session ends (onclose).
    this.onclose?.();
  }

  /** One answer for a request on `stream`; ends the response once none is pending on it. */
  #answer(stream: PostStream, message: JSONRPCMessage): void {
    this.#write(stream, message);
    if (--stream.pending === 0) this.#finish(stream);
  }

  #write(stream: PostStream, message: JSONRPCMessage): void {
    if (!stream.sse) stream.responses.push(serialize(message));
    else this.#emit(stream, serialize(message));
  }

  #finish(stream: PostStream): void {
    const { res } = stream;
    if (stream.log) stream.finishedAt = this.#now();
    if (res.writableEnded || res.destroyed) return;
    if (stream.sse) {
      res.end();
      return;
    }
    if (stream.responses.length === 0) {
      res.writeHead(202, { 'mcp-session-id': this.sessionId }).end();
      return;
    }
    const payload = stream.batch ? `[${stream.responses.join(',')}]` : stream.responses[0]!;
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'mcp-session-id': this.sessionId,
    });
    res.end(payload);
  }

  #checkProtocolVersion(req: IncomingMessage, res: ServerResponse, id: RequestId | null): boolean {
    const verdict = checkVersionHeader(req.headers['mcp-protocol-version'], this.#negotiated);
    if (!verdict.ok) sendJsonRpcError(res, 400, -32000, verdict.message, id);
    return verdict.ok;
  }
}

function serialize(message: JSONRPCMessage): string {
  const raw = preserializedResult(message);
  if (raw === undefined) return JSON.stringify(message);
  const { id } = message as { id: RequestId };
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${raw}}`;
}
