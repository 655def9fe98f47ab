import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: 413; message: string }
  | { ok: false; status: 400; message: string; parseError: boolean };

/**
 * Reads and parses a JSON request body with a hard size cap. A Content-Length over the cap is
 * refused before reading; a chunked body is cut off as soon as it passes the cap.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ ok: false, status: 413, message: `Request body exceeds ${limit} bytes` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, status: 413, message: `Request body exceeds ${limit} bytes` });
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      try {
        finish({ ok: true, value: JSON.parse(text) });
      } catch {
        finish({ ok: false, status: 400, message: 'Parse error: body is not valid JSON', parseError: true });
      }
    });
    req.on('error', () =>
      finish({ ok: false, status: 400, message: 'Could not read request body', parseError: false }),
    );
  });
}

/** What the express body parsers (body-parser) throw, by their `type`, and what to tell the client. */
const PARSER_FAILURES: Readonly<Record<string, string>> = {
  'entity.too.large': 'Request body is too large',
  'entity.parse.failed': 'Malformed request body',
  'parameters.too.many': 'Request body has too many parameters',
  'charset.unsupported': 'Unsupported request body charset',
  'encoding.unsupported': 'Unsupported request body encoding',
  'request.aborted': 'Request body was cut short',
  'request.size.invalid': 'Request body does not match its Content-Length',
};

/**
 * A body parser's refusal of what the client sent (too large, malformed, an odd encoding): the
 * client's fault, answered with the parser's 4xx status (413 for too large) and a short reason,
 * not a server error. Undefined for anything else.
 */
export function clientBodyFailure(error: unknown): { status: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status, limit } = error as { type?: unknown; status?: unknown; limit?: unknown };
  if (typeof type !== 'string' || !Object.hasOwn(PARSER_FAILURES, type)) return undefined;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const message = PARSER_FAILURES[type]!;
  return {
    status,
    message: type === 'entity.too.large' && typeof limit === 'number' ? `${message} (limit ${kib(limit)})` : message,
  };
}

const kib = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`);
