import { request } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** One /mcp exchange as it went over the wire, for tests about exactly what the gateway answers. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The JSON-RPC messages in the body: the JSON body (one or a batch), or each SSE `data:` line. */
  messages: Array<Record<string, unknown>>;
  /** How long until the response ended, in ms. */
  ms: number;
}

export interface RawOptions {
  token: string;
  sessionId?: string;
  method?: string;
  accept?: string;
  contentType?: string;
  /** Sent as is when a string, else as JSON. */
  body?: unknown;
  /** Fails the exchange when the response has not ended by then. Default 10 s. */
  timeoutMs?: number;
  /** Called once the response headers are in (e.g. to act while the body is still open). */
  onResponse?: () => void;
  /**
   * The MCP-Protocol-Version header; null sends none. Default: with a session id, the version
   * openSession negotiated for it (else the latest).
   */
  protocolVersion?: string | null;
  /** Extra request headers (e.g. Last-Event-ID). */
  headers?: Record<string, string>;
}

/** The version each session opened by openSession negotiated, sent as its MCP-Protocol-Version. */
const negotiated = new Map<string, string>();

/** Posts (or GETs / DELETEs) to /mcp with node:http and reads the whole answer, bounded in time. */
export function rawMcp(url: URL, options: RawOptions): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      accept: options.accept ?? 'application/json, text/event-stream',
      'content-type': options.contentType ?? 'application/json',
    };
    if (options.sessionId) headers['mcp-session-id'] = options.sessionId;
    const version =
      options.protocolVersion === undefined && options.sessionId
        ? (negotiated.get(options.sessionId) ?? LATEST_PROTOCOL_VERSION)
        : options.protocolVersion;
    if (version) headers['mcp-protocol-version'] = version;
    Object.assign(headers, options.headers);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const req = request(url, { method: options.method ?? 'POST', headers }, (res) => {
      options.onResponse?.();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          messages: parseMessages(String(res.headers['content-type'] ?? ''), body),
          ms: Date.now() - started,
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${describe(options.body)}`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    if (options.body !== undefined) {
      req.write(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    }
    req.end();
  });
}

function describe(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? '(no body)' : text.slice(0, 200);
}

function parseMessages(type: string, body: string): Array<Record<string, unknown>> {
  if (body === '') return [];
  if (type.startsWith('text/event-stream')) {
    return (
      body
        .split('\n')
        // A priming event has empty data (MCP 2025-11-25 basic/transports): no message.
        .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
        .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>)
    );
  }
  if (!type.startsWith('application/json')) return [];
  const parsed = JSON.parse(body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
}

/**
 * Opens a session the way a client does (initialize, then notifications/initialized) and returns
 * its id; later rawMcp calls with that id send the negotiated version.
 */
export async function openSession(url: URL, token: string, protocolVersion = LATEST_PROTOCOL_VERSION): Promise<string> {
  const init = await rawMcp(url, {
    token,
    body: {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    },
  });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${init.body}`);
  const sessionId = init.headers['mcp-session-id'] as string;
  negotiated.set(sessionId, (init.messages[0]?.result as { protocolVersion: string }).protocolVersion);
  await rawMcp(url, { token, sessionId, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  return sessionId;
}

/** An SSE response being read: its text so far, until closed by either side. */
export interface OpenStream extends AsyncDisposable {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Everything received so far. */
  text(): string;
  /** The events received so far, each with its id and data (empty data for a priming event). */
  events(): Array<{ id: string | undefined; data: string }>;
  /** Resolves once the server ended the response. */
  ended: Promise<void>;
  /** Drops the connection, as a network failure would. */
  drop(): void;
}

/** Opens an SSE response (a GET on /mcp, or a POST when there is a body) and keeps reading it in the background. */
export function openSse(url: URL, options: RawOptions): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'text/event-stream' };
    if (options.sessionId) {
      headers['mcp-session-id'] = options.sessionId;
      headers['mcp-protocol-version'] = negotiated.get(options.sessionId) ?? LATEST_PROTOCOL_VERSION;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers.accept = options.accept ?? 'application/json, text/event-stream';
    }
    Object.assign(headers, options.headers);
    const req = request(
      url,
      { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        const ended = new Promise<void>((done) => res.on('close', done));
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => body,
          events: () => parseEvents(body),
          ended,
          drop: () => req.destroy(),
          async [Symbol.asyncDispose]() {
            req.destroy();
            await ended;
          },
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(JSON.stringify(options.body));
    req.end();
  });
}

function parseEvents(body: string): Array<{ id: string | undefined; data: string }> {
  const events: Array<{ id: string | undefined; data: string }> = [];
  for (const block of body.split('\n\n')) {
    const lines = block.split('\n').filter((line) => line && !line.startsWith(':'));
    if (lines.length === 0) continue;
    const field = (name: string) =>
      lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).replace(/^ /, ''));
    events.push({ id: field('id')[0], data: field('data').join('\n') });
  }
  return events;
}
