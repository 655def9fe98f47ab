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
}

/** Posts (or GETs / DELETEs) to /mcp with node:http and reads the whole answer, bounded in time. */
export function rawMcp(url: URL, options: RawOptions): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      accept: options.accept ?? 'application/json, text/event-stream',
      'content-type': options.contentType ?? 'application/json',
    };
    if (options.sessionId) {
      headers['mcp-session-id'] = options.sessionId;
      headers['mcp-protocol-version'] = LATEST_PROTOCOL_VERSION;
    }
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
    return body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  }
  if (!type.startsWith('application/json')) return [];
  const parsed = JSON.parse(body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
}

/** Opens a session the way a client does (initialize, then notifications/initialized) and returns its id. */
export async function openSession(url: URL, token: string): Promise<string> {
  const init = await rawMcp(url, {
    token,
    body: {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    },
  });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${init.body}`);
  const sessionId = init.headers['mcp-session-id'] as string;
  await rawMcp(url, { token, sessionId, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  return sessionId;
}
