import { describe, expect, it } from 'vitest';
import { createJsonLineReader, OVERSIZED_EDGE_BYTES, recoverEnvelope, type OversizedLine } from './json-lines.js';

function read(chunks: Array<string | Buffer>, maxLineBytes = 1024) {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const reader = createJsonLineReader({
    maxLineBytes,
    onLine: (line) => lines.push(line),
    onOversized: (line) => oversized.push(line),
  });
  for (const chunk of chunks) reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { lines, oversized, reader };
}

/** Splits a string's bytes into chunks of `size` bytes (cutting multi-byte characters too). */
function bytesOf(text: string, size: number): Buffer[] {
  const all = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size));
  return chunks;
}

const big = (n: number) => 'x'.repeat(n);

describe('createJsonLineReader', () => {
  it('joins a line delivered in pieces, including a character split between chunks', () => {
    const message = '{"jsonrpc":"2.0","id":1,"result":{"text":"héllo ✓"}}\n';
    expect(read(bytesOf(message, 1)).lines).toEqual([message.trimEnd()]);
    expect(read(bytesOf(message, 7)).lines).toEqual([message.trimEnd()]);
  });

  it('splits several lines in one chunk and keeps a trailing partial line for later', () => {
    const { lines, reader } = read(['{"a":1}\n{"b":2}\n{"c"']);
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    reader.push(Buffer.from(':3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('strips the CR of CRLF line ends, also when the CR and LF arrive apart', () => {
    expect(read(['{"a":1}\r\n{"b":2}\r', '\n']).lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('skips blank lines', () => {
    expect(read(['\n\r\n  \n{"a":1}\n']).lines).toEqual(['{"a":1}']);
  });

  it('passes invalid JSON lines on as they are (the transport reports them) and reads on', () => {
    expect(read(['server starting...\n{"a":1}\n']).lines).toEqual(['server starting...', '{"a":1}']);
  });

  it('delivers a line exactly at the limit and drops one a byte over, then reads on', () => {
    const atLimit = `{"t":"${big(1024 - 8)}"}`;
    expect(Buffer.byteLength(atLimit)).toBe(1024);
    expect(read([atLimit + '\n']).lines).toEqual([atLimit]);
    const over = `{"t":"${big(1024 - 7)}"}`;
    const { lines, oversized } = read([over + '\n{"next":true}\n']);
    expect(lines).toEqual(['{"next":true}']);
    expect(oversized.map((o) => o.bytes)).toEqual([1025]);
  });

  it('drops an oversized line without holding it: only its edges are kept, whatever the chunking', () => {
    const line = `{"head":1,"body":"${big(100_000)}","end":2}`;
    for (const size of [1, 999, 4096, 65_536, 200_000]) {
      const { lines, oversized } = read(bytesOf(line + '\r\n{"after":1}\n', size), 4096);
      expect(lines).toEqual(['{"after":1}']);
      expect(oversized).toHaveLength(1);
      const [dropped] = oversized;
      expect(dropped!.bytes).toBe(Buffer.byteLength(line));
      // Compared as booleans: a failure would otherwise print 8 KiB of x.
      expect(dropped!.head.toString() === line.slice(0, OVERSIZED_EDGE_BYTES)).toBe(true);
      // The CR of the CRLF is not part of the line: the tail is one byte shorter then.
      expect(dropped!.tail.toString() === line.slice(-(OVERSIZED_EDGE_BYTES - 1))).toBe(true);
    }
  });

  it('forgets a partial line on reset', () => {
    const { lines, reader } = read(['{"lost":']);
    reader.reset();
    reader.push(Buffer.from('{"kept":1}\n'));
    expect(lines).toEqual(['{"kept":1}']);
  });
});

/** An oversized line's edges, as the reader keeps them. */
function edges(line: string) {
  const bytes = Buffer.from(line);
  return [bytes.subarray(0, OVERSIZED_EDGE_BYTES), bytes.subarray(-OVERSIZED_EDGE_BYTES)] as const;
}

describe('recoverEnvelope', () => {
  const payload = big(50_000);

  it('finds the id of a response that puts it first (Python and Go SDKs)', () => {
    const line = `{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"${payload}"}]}}`;
    expect(recoverEnvelope(...edges(line))).toEqual({ id: 42, kind: 'response' });
  });

  it('finds the id of a response that puts it last (TypeScript SDK), ignoring ids nested in the result', () => {
    const line =
      `{"result":{"items":[{"id":7,"note":"a \\"id\\": 9 inside a string"}],"text":"${payload}",` +
      `"structured":{"id":8,"path":"C:\\\\dir\\\\"}},"jsonrpc":"2.0","id":"req-3"}`;
    JSON.parse(line);
    expect(recoverEnvelope(...edges(line))).toEqual({ id: 'req-3', kind: 'response' });
  });

  it('does not take an id from inside the result when the envelope’s own id is beyond the edges', () => {
    const line = `{"result":{"id":5,"text":"${payload}","more":{"id":6}},"extra":"${payload}","id":1,"tail":"${payload}","jsonrpc":"2.0"}`;
    expect(recoverEnvelope(...edges(line))).toEqual({ kind: 'response' });
  });

  it('reads an error response with whitespace and an id after nested members', () => {
    const line = `{ "error" : { "code" : -1, "message" : "${payload}" } , "id" : 0 }`;
    expect(recoverEnvelope(...edges(line))).toEqual({ id: 0, kind: 'response' });
  });

  it('tells a request from the server apart from a response', () => {
    const line = `{"method":"sampling/createMessage","params":{"text":"${payload}"},"jsonrpc":"2.0","id":0}`;
    expect(recoverEnvelope(...edges(line))).toEqual({ id: 0, kind: 'request' });
  });

  it('has no id for a notification', () => {
    const line = `{"method":"notifications/message","params":{"data":"${payload}"},"jsonrpc":"2.0"}`;
    expect(recoverEnvelope(...edges(line))).toEqual({ kind: 'request' });
  });

  it('gives up quietly on something that is not a JSON object', () => {
    expect(recoverEnvelope(Buffer.from(payload), Buffer.from(payload))).toEqual({ kind: 'unknown' });
    expect(recoverEnvelope(Buffer.from('{"id":'), Buffer.from('"x'))).toEqual({ kind: 'unknown' });
  });
});
