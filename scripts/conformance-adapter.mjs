// The loopback adapter `npm run conformance` puts between @modelcontextprotocol/conformance and the
// gateway's /mcp (node:http on 127.0.0.1, port 0). It makes the suite an ordinary authorized client
// of a federating gateway and nothing more:
// - it sends `Authorization: Bearer <token>` (a personal access token the owner created for the
//   run); the gateway checks it as any other;
// - the gateway names a backend's tools and prompts `<backend>__<name>` (src/federation/naming.ts),
//   and the suite asks for the backend's own names. So the adapter adds the prefix to the name of
//   tools/call, prompts/get and a completion's `ref/prompt`, and to the `Mcp-Name` header of those
//   requests (2026-07-28), so header and body stay as consistent, or as inconsistent, as the suite
//   made them; it strips the prefix from tools/list and prompts/list results. Resource URIs are not
//   namespaced by the gateway and pass unchanged;
// - the gateway's own tools (`builtins`: whoami, find_tools) keep their names and stay listed: the
//   tools-list checks ask only that every tool has a valid name, a description and an inputSchema,
//   which they have, and hiding them would hide part of what the gateway serves;
// - an Origin naming the adapter itself is rewritten to the gateway's (the same page, one hop
//   further); any other Origin, and every Host header, pass unchanged, so the gateway still judges
//   DNS rebinding itself;
// - JSON answers are rewritten whole, SSE (text/event-stream) answers event by event as they
//   stream; every other header (Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method…)
//   passes both ways untouched.
import { createServer, request as httpRequest } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);
const forwardable = (headers) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
/** One SSE event ends at a blank line; the spec allows CRLF, LF or CR line ends (WHATWG HTML §9.2.6). */
const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

/** Parses JSON (one message or a batch), maps each message, serializes again; anything else passes as is. */
function mapJson(text, map) {
  try {
    const parsed = JSON.parse(text);
    return JSON.stringify(Array.isArray(parsed) ? parsed.map(map) : map(parsed));
  } catch {
    return text;
  }
}

/**
 * Starts the adapter in front of `target` (the gateway's MCP URL). Resolves to the listening
 * node:http server; its URL is `http://127.0.0.1:<port>/mcp`.
 * @param {{ target: URL, token: string, backend: string, builtins: ReadonlySet<string> }} options
 * @returns {Promise<import('node:http').Server>}
 */
export function createAdapter({ target, token, backend, builtins }) {
  const prefix = `${backend}__`;
  const prefixed = (name) => (typeof name === 'string' && !builtins.has(name) ? prefix + name : name);
  const unprefixed = (name) => (typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : name);

  /** Client → gateway: the backend's names become the gateway's. */
  const mapRequest = (message) => {
    const params = message?.params;
    if (typeof message?.method !== 'string' || !params || typeof params !== 'object') return message;
    if ((message.method === 'tools/call' || message.method === 'prompts/get') && typeof params.name === 'string') {
      params.name = prefixed(params.name);
    } else if (message.method === 'completion/complete' && params.ref?.type === 'ref/prompt') {
      params.ref.name = prefixed(params.ref.name);
    }
    return message;
  };

  /** Gateway → client: list results show the backend's own names again. */
  const mapResponse = (message) => {
    const result = message?.result;
    if (!result || typeof result !== 'object') return message;
    for (const key of ['tools', 'prompts']) {
      if (!Array.isArray(result[key])) continue;
      for (const item of result[key]) if (item) item.name = unprefixed(item.name);
    }
    return message;
  };

  /** One SSE event without its blank line: its data lines together hold one JSON-RPC message. */
  const mapEvent = (block) => {
    const lines = block.split(/\r\n|\r|\n/);
    const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(line[5] === ' ' ? 6 : 5));
    if (data.length === 0) return block;
    const others = lines.filter((line) => !line.startsWith('data:'));
    return [...others, `data: ${mapJson(data.join('\n'), mapResponse)}`].join('\n');
  };

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    let body = Buffer.concat(chunks);
    const headers = forwardable(req.headers);
    headers.authorization = `Bearer ${token}`;
    const { port } = server.address();
    if ([`http://127.0.0.1:${port}`, `http://localhost:${port}`].includes(headers.origin)) {
      headers.origin = headers.origin.replace(`:${port}`, `:${target.port}`);
    }
    if (body.length > 0 && /json/i.test(String(req.headers['content-type']))) {
      body = Buffer.from(mapJson(body.toString('utf8'), mapRequest));
      const method = req.headers['mcp-method'];
      if ((method === 'tools/call' || method === 'prompts/get') && typeof headers['mcp-name'] === 'string') {
        headers['mcp-name'] = prefixed(headers['mcp-name']);
      }
    }
    if (body.length > 0 || req.method === 'POST') headers['content-length'] = String(body.length);

    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (answer) => {
        const type = String(answer.headers['content-type'] ?? '');
        const out = forwardable(answer.headers);
        if (type.includes('text/event-stream')) {
          res.writeHead(answer.statusCode, out);
          res.flushHeaders();
          let pending = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk) => {
            pending += chunk;
            for (let end = pending.search(EVENT_END); end !== -1; end = pending.search(EVENT_END)) {
              const separator = EVENT_END.exec(pending.slice(end))[0];
              res.write(`${mapEvent(pending.slice(0, end))}\n\n`);
              pending = pending.slice(end + separator.length);
            }
          });
          answer.on('end', () => res.end(pending));
          answer.on('error', () => res.destroy());
        } else if (type.includes('json')) {
          const parts = [];
          answer.on('data', (chunk) => parts.push(chunk));
          answer.on('end', () => {
            const mapped = Buffer.from(mapJson(Buffer.concat(parts).toString('utf8'), mapResponse));
            res.writeHead(answer.statusCode, { ...out, 'content-length': String(mapped.length) });
            res.end(mapped);
          });
        } else {
          res.writeHead(answer.statusCode, out);
          answer.pipe(res);
        }
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // A client that goes away (a GET stream it closed, a cancelled request) closes the hop to the gateway too.
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}
