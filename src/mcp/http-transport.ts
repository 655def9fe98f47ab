import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CancelledNotificationSchema,
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  ErrorCode,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { isRequestMessage, looksLikeJsonRpc, preserializedResult, sendJsonRpcError } from '../shared/json-rpc.js';

/** One POST that carried requests: its response is either a single JSON body or an SSE stream. */
interface PostStream {
  res: ServerResponse;
  sse: boolean;
  pending: Set<RequestId>;
  responses: JSONRPCMessage[];
  batch: boolean;
}

/**
 * Answers one request without the SDK's protocol layer, given the signal that cancellation or the
 * session's end aborts; returns undefined when it does not take the request (the SDK then does).
 */
export type DirectHandler = (request: JSONRPCRequest, signal: AbortSignal) => Promise<unknown> | undefined;

const MAX_BATCH = 100;
const KEEPALIVE_MS = 25_000;

function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return 'id' in message && ('result' in message || 'error' in message);
}

/**
 * Whether the SDK would take this message as a request: its check is strict (an integer or string
 * id, no keys beyond these four), and it drops anything else with an error, unanswered.
 */
function isSdkRequest(request: JSONRPCRequest): boolean {
  const { id } = request;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  for (const key in request) {
    if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return false;
  }
  return true;
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
 * only when the request asked for progress (so notifications must stream) or the client accepts
 * nothing else. Both are allowed by the spec (Streamable HTTP, "Sending Messages to the Server").
 */
export class NodeStreamableHttpTransport implements Transport {
  readonly sessionId: string;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** Takes a lone request (not in a batch) before the SDK sees it, when it can; see DirectHandler. */
  direct?: DirectHandler;

  readonly #byRequest = new Map<RequestId, PostStream>();
  /** Requests answered by `direct` and still running, for cancellation. */
  readonly #directCalls = new Map<RequestId, AbortController>();
  #standalone: ServerResponse | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #initialized = false;
  #closed = false;
  #lastActivity = Date.now();

  constructor(sessionId: string) {
    this.sessionId = sessionId;
  }

  async start(): Promise<void> {}

  /** Idle: no request for `idleMs` and no open stream on which the server could still talk. */
  isIdle(now: number, idleMs: number): boolean {
    const streaming = (this.#standalone && !this.#standalone.writableEnded) || this.#byRequest.size > 0;
    return !streaming && now - this.#lastActivity > idleMs;
  }

  /** Handles a POST whose body was already parsed (and size-checked) by the HTTP layer. */
  handlePost(req: IncomingMessage, res: ServerResponse, body: unknown, authInfo?: AuthInfo): void {
    this.#lastActivity = Date.now();
    const type = req.headers['content-type'] ?? '';
    if (!type.includes('application/json')) {
      sendJsonRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      return;
    }
    if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
      sendJsonRpcError(res, 406, -32000, 'Not Acceptable: accept application/json or text/event-stream');
      return;
    }
    const batch = Array.isArray(body);
    const raw = batch ? (body as unknown[]) : [body];
    if (raw.length === 0 || raw.length > MAX_BATCH) {
      sendJsonRpcError(res, 400, -32600, `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages`);
      return;
    }
    const messages: JSONRPCMessage[] = [];
    for (const item of raw) {
      if (!looksLikeJsonRpc(item)) {
        sendJsonRpcError(res, 400, -32600, 'Invalid Request: not a JSON-RPC 2.0 message');
        return;
      }
      messages.push(item as JSONRPCMessage);
    }
    const initializing = messages.some((m) => isRequestMessage(m) && m.method === 'initialize');
    if (initializing) {
      if (this.#initialized || messages.length > 1) {
        sendJsonRpcError(res, 400, -32600, 'Invalid Request: the session is already initialized');
        return;
      }
      this.#initialized = true;
    } else if (!this.#checkProtocolVersion(req, res)) {
      return;
    }

    const requests = messages.filter(isRequestMessage) as JSONRPCRequest[];
    const extra: MessageExtraInfo = { requestInfo: { headers: req.headers } };
    if (authInfo) extra.authInfo = authInfo;
    if (requests.length === 0) {
      // Only notifications or responses: accepted, nothing to answer (spec: 202 with no body).
      res.writeHead(202, { 'mcp-session-id': this.sessionId }).end();
      for (const message of messages) this.#dispatch(message, extra);
      return;
    }
    const wantsProgress = requests.some((r) => r.params?._meta?.progressToken !== undefined);
    const sse = !accepts(req, 'application/json') || (wantsProgress && accepts(req, 'text/event-stream'));
    const stream: PostStream = { res, sse, pending: new Set(requests.map((r) => r.id)), responses: [], batch };
    for (const id of stream.pending) this.#byRequest.set(id, stream);
    res.once('close', () => {
      // The client went away: answers to these requests have nowhere to go. Per spec this is not a
      // cancellation, so the requests run to completion and their responses are dropped.
      for (const id of stream.pending) if (this.#byRequest.get(id) === stream) this.#byRequest.delete(id);
    });
    if (sse) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'mcp-session-id': this.sessionId,
      });
    }
    if (!batch && this.#answerDirectly(requests[0]!)) return;
    for (const message of messages) this.#dispatch(message, extra);
  }

  #dispatch(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if ('method' in message && message.method === 'notifications/cancelled' && this.#directCalls.size > 0) {
      this.#cancelDirect(message);
    }
    this.onmessage?.(message, extra);
  }

  /**
   * Runs a request through `direct` if it takes it, answering as the SDK's protocol layer would:
   * `{ result, jsonrpc, id }`, or an error built from the thrown error's code, message and data,
   * and nothing at all once the request was cancelled.
   */
  #answerDirectly(request: JSONRPCRequest): boolean {
    if (!this.direct || !isSdkRequest(request)) return false;
    const controller = new AbortController();
    const pending = this.direct(request, controller.signal);
    if (!pending) return false;
    const { id } = request;
    this.#directCalls.set(id, controller);
    const settled = () => {
      if (this.#directCalls.get(id) === controller) this.#directCalls.delete(id);
      return !controller.signal.aborted;
    };
    pending.then(
      (result) => {
        if (settled()) void this.send({ result, jsonrpc: '2.0', id } as JSONRPCMessage);
      },
      (error: { code?: unknown; message?: unknown; data?: unknown }) => {
        if (!settled()) return;
        const code = Number.isSafeInteger(error.code) ? (error.code as number) : ErrorCode.InternalError;
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

  /** The SDK's own cancellation rule: a valid notification naming a (truthy) request id aborts it. */
  #cancelDirect(message: JSONRPCMessage): void {
    const parsed = CancelledNotificationSchema.safeParse(message);
    const requestId = parsed.success ? parsed.data.params.requestId : undefined;
    if (!requestId) return;
    this.#directCalls.get(requestId)?.abort(parsed.data!.params.reason);
  }

  /** Opens the standalone SSE stream for server-initiated messages (list_changed, logs…). */
  handleGet(req: IncomingMessage, res: ServerResponse): void {
    this.#lastActivity = Date.now();
    if (!accepts(req, 'text/event-stream')) {
      sendJsonRpcError(res, 406, -32000, 'Not Acceptable: GET requires Accept: text/event-stream');
      return;
    }
    if (!this.#checkProtocolVersion(req, res)) return;
    if (this.#standalone && !this.#standalone.writableEnded) {
      sendJsonRpcError(res, 409, -32000, 'Conflict: this session already has an open SSE stream');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'mcp-session-id': this.sessionId,
    });
    res.flushHeaders();
    this.#standalone = res;
    // Comments keep idle proxies and tunnels from closing the stream.
    this.#keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.#keepalive.unref();
    res.once('close', () => {
      if (this.#standalone === res) {
        this.#standalone = undefined;
        clearInterval(this.#keepalive);
      }
    });
  }

  async handleDelete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#checkProtocolVersion(req, res)) return;
    res.writeHead(200, { 'mcp-session-id': this.sessionId }).end();
    await this.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return;
    if (isResponse(message)) {
      const stream = this.#byRequest.get(message.id);
      if (!stream) return;
      this.#byRequest.delete(message.id);
      stream.pending.delete(message.id);
      if (stream.sse) {
        writeEvent(stream.res, message);
        if (stream.pending.size === 0) stream.res.end();
        return;
      }
      stream.responses.push(message);
      if (stream.pending.size > 0) return;
      const parts = stream.responses.map(serialize);
      const payload = stream.batch ? `[${parts.join(',')}]` : parts[0]!;
      if (stream.res.writableEnded || stream.res.destroyed) return;
      stream.res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'mcp-session-id': this.sessionId,
      });
      stream.res.end(payload);
      return;
    }
    // Notifications and server requests: on the stream of the request they relate to when it is
    // an SSE stream, otherwise on the standalone stream if the client opened one.
    const related = options?.relatedRequestId;
    const stream = related !== undefined ? this.#byRequest.get(related) : undefined;
    if (stream?.sse && !stream.res.writableEnded) {
      writeEvent(stream.res, message);
      return;
    }
    if (this.#standalone && !this.#standalone.writableEnded) writeEvent(this.#standalone, message);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    this.#standalone?.end();
    for (const stream of new Set(this.#byRequest.values())) if (!stream.res.writableEnded) stream.res.end();
    this.#byRequest.clear();
    // The SDK aborts its running request handlers when the session ends; the direct ones likewise.
    for (const controller of this.#directCalls.values()) controller.abort();
    this.#directCalls.clear();
    this.onclose?.();
  }

  #checkProtocolVersion(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers['mcp-protocol-version'];
    const version = (Array.isArray(header) ? header[0] : header) ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      sendJsonRpcError(
        res,
        400,
        -32000,
        `Bad Request: unsupported protocol version ${version} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      );
      return false;
    }
    return true;
  }
}

function serialize(message: JSONRPCMessage): string {
  const raw = preserializedResult(message);
  if (raw === undefined) return JSON.stringify(message);
  const { id } = message as { id: RequestId };
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${raw}}`;
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage): void {
  res.write(`event: message\ndata: ${serialize(message)}\n\n`);
}
