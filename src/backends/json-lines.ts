/**
 * Newline-delimited JSON as MCP's stdio transport frames it (MCP spec, transports: "messages are
 * delimited by newlines, and MUST NOT contain embedded newlines"), read with a per-line size limit.
 *
 * A line over the limit is not buffered whole: its bytes are counted and dropped up to the next
 * newline, keeping only its first and last few KiB. Those are enough to tell what the message was
 * (a response and its `id`, or a request from the server), so the caller can fail the one call it
 * answered instead of the whole connection.
 */

/** Bytes kept from each end of an oversized line: the envelope's members sit at one end or the other. */
export const OVERSIZED_EDGE_BYTES = 8 * 1024;

export interface OversizedLine {
  /** Size of the whole line in bytes, without its newline. */
  bytes: number;
  /** Its first bytes (at most OVERSIZED_EDGE_BYTES). */
  head: Buffer;
  /** Its last bytes (at most OVERSIZED_EDGE_BYTES), without the newline or a trailing CR. */
  tail: Buffer;
}

export interface JsonLineReaderOptions {
  /** Longest line accepted, in bytes (without the newline). */
  maxLineBytes: number;
  /** A complete line, decoded as UTF-8, without its newline or a trailing CR; blank lines are skipped. */
  onLine: (line: string) => void;
  /** A line over the limit, after its newline arrived. */
  onOversized: (line: OversizedLine) => void;
}

export interface JsonLineReader {
  push(chunk: Buffer): void;
  /** Forgets a partial line (the stream ended or was closed). */
  reset(): void;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

export function createJsonLineReader(options: JsonLineReaderOptions): JsonLineReader {
  const { maxLineBytes, onLine, onOversized } = options;
  // The current line's bytes so far, kept as chunks and joined once at its newline: joining on every
  // chunk (as a growing Buffer) would copy a large message over and over.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Set while dropping an oversized line up to its newline: its size and the pieces that hold its
  // first and last OVERSIZED_EDGE_BYTES (kept as pieces, so tiny chunks cost no copying).
  let dropping: { bytes: number; head: Buffer[]; headBytes: number; tail: Buffer[]; tailBytes: number } | undefined;

  const deliver = (line: Buffer) => {
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    const text = line.toString('utf8', 0, end);
    if (text.trim() === '') return;
    onLine(text);
  };

  const keepEdges = (piece: Buffer) => {
    const state = dropping!;
    state.bytes += piece.length;
    if (state.headBytes < OVERSIZED_EDGE_BYTES) {
      const part = Buffer.from(piece.subarray(0, OVERSIZED_EDGE_BYTES - state.headBytes));
      state.head.push(part);
      state.headBytes += part.length;
    }
    state.tail.push(piece);
    state.tailBytes += piece.length;
    while (state.tail.length > 1 && state.tailBytes - state.tail[0]!.length >= OVERSIZED_EDGE_BYTES) {
      state.tailBytes -= state.tail.shift()!.length;
    }
  };

  const finishDropping = () => {
    const state = dropping!;
    dropping = undefined;
    const joined = Buffer.concat(state.tail);
    let tail = Buffer.from(joined.subarray(Math.max(0, joined.length - OVERSIZED_EDGE_BYTES)));
    let bytes = state.bytes;
    if (tail.length > 0 && tail[tail.length - 1] === CR) {
      tail = tail.subarray(0, tail.length - 1);
      bytes--;
    }
    onOversized({ bytes, head: Buffer.concat(state.head), tail });
  };

  return {
    push(chunk: Buffer) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, start);
        const end = newline === -1 ? chunk.length : newline;
        const piece = chunk.subarray(start, end);
        if (dropping) {
          keepEdges(piece);
          if (newline !== -1) finishDropping();
        } else if (pendingBytes + piece.length > maxLineBytes) {
          dropping = { bytes: 0, head: [], headBytes: 0, tail: [], tailBytes: 0 };
          for (const held of [...pending, piece]) keepEdges(held);
          pending = [];
          pendingBytes = 0;
          if (newline !== -1) finishDropping();
        } else if (newline === -1) {
          // Copied: the stream may reuse the chunk's memory, and a small slice must not pin a big chunk.
          pending.push(Buffer.from(piece));
          pendingBytes += piece.length;
        } else {
          const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
          pending = [];
          pendingBytes = 0;
          deliver(line);
        }
        if (newline === -1) break;
        start = newline + 1;
      }
    },
    reset() {
      pending = [];
      pendingBytes = 0;
      dropping = undefined;
    },
  };
}

/** What the edges of an oversized message tell about it. */
export interface RecoveredEnvelope {
  /** The top-level `id`, when one of the edges holds it. */
  id?: string | number;
  /** `response` when `result` or `error` was seen at the top level, `request` for `method`. */
  kind: 'response' | 'request' | 'unknown';
}

/**
 * Finds the top-level `id` and kind of a JSON-RPC message from its first and last bytes. Servers
 * differ in member order: the TypeScript SDK writes `{"result":…,"jsonrpc":"2.0","id":1}`, the
 * Python and Go SDKs `{"jsonrpc":"2.0","id":1,"result":…}`, so both ends are read. Only members of
 * the outermost object count: an `"id"` inside the result is someone else's.
 */
export function recoverEnvelope(head: Buffer, tail: Buffer): RecoveredEnvelope {
  const members = new Map<string, unknown>();
  for (const [key, value] of [...headMembers(head), ...tailMembers(tail)]) members.set(key, value);
  const kind = members.has('method')
    ? 'request'
    : members.has('result') || members.has('error')
      ? 'response'
      : 'unknown';
  const id = members.get('id');
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? { id, kind } : { kind };
}

/** Marks a member whose value is an object or array: its presence counts, its content is not kept. */
const NESTED = Symbol('nested');

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isBare = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45;

/** Parses one primitive JSON value from bytes; undefined when it is not one. */
function primitive(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The outermost object's members readable from the start of a message, in order, until the bytes
 * run out. Structure is read on raw bytes: UTF-8 continuation bytes never equal an ASCII delimiter.
 */
function headMembers(buf: Buffer): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  let i = 0;
  const skipSpace = () => {
    while (i < buf.length && isSpace(buf[i]!)) i++;
  };
  /** Index just past the string starting at `i` (a quote), or -1 if it runs past the edge. */
  const stringEnd = (from: number) => {
    for (let j = from + 1; j < buf.length; j++) {
      if (buf[j] === 0x5c) j++;
      else if (buf[j] === 0x22) return j + 1;
    }
    return -1;
  };
  /** Index just past the value starting at `i`, or -1 if it runs past the edge. */
  const valueEnd = (from: number) => {
    const c = buf[from];
    if (c === 0x22) return stringEnd(from);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      for (let j = from; j < buf.length; j++) {
        const d = buf[j]!;
        if (d === 0x22) {
          const end = stringEnd(j);
          if (end === -1) return -1;
          j = end - 1;
        } else if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) return j + 1;
        }
      }
      return -1;
    }
    let j = from;
    while (j < buf.length && isBare(buf[j]!)) j++;
    return j === buf.length || j === from ? -1 : j;
  };

  skipSpace();
  if (buf[i] !== 0x7b) return found;
  i++;
  for (;;) {
    skipSpace();
    if (buf[i] !== 0x22) return found;
    const keyEnd = stringEnd(i);
    if (keyEnd === -1) return found;
    const key = primitive(buf.subarray(i, keyEnd));
    i = keyEnd;
    skipSpace();
    if (buf[i] !== 0x3a) return found;
    i++;
    skipSpace();
    if (typeof key !== 'string' || i >= buf.length) return found;
    const nested = buf[i] === 0x7b || buf[i] === 0x5b;
    const end = valueEnd(i);
    // A value cut by the edge still shows that its member exists (the big `result`, typically).
    if (end === -1) {
      found.push([key, NESTED]);
      return found;
    }
    found.push([key, nested ? NESTED : primitive(buf.subarray(i, end))]);
    i = end;
    skipSpace();
    if (buf[i] !== 0x2c) return found;
    i++;
  }
}

/** The outermost object's members readable from the end of a message, last first. */
function tailMembers(buf: Buffer): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  let i = buf.length - 1;
  const skipSpace = () => {
    while (i >= 0 && isSpace(buf[i]!)) i--;
  };
  /**
   * Index of the opening quote of the string whose closing quote is at `to`, or -1. Read backwards,
   * a quote is escaped when an odd number of backslashes precede it.
   */
  const stringStart = (to: number) => {
    for (let j = to - 1; j >= 0; j--) {
      if (buf[j] !== 0x22) continue;
      let slashes = 0;
      for (let k = j - 1; k >= 0 && buf[k] === 0x5c; k--) slashes++;
      if (slashes % 2 === 0) return j;
    }
    return -1;
  };
  /** Index of the first byte of the value ending at `to`, or -1 if it starts before the edge. */
  const valueStart = (to: number) => {
    const c = buf[to];
    if (c === 0x22) return stringStart(to);
    if (c === 0x7d || c === 0x5d) {
      let depth = 0;
      for (let j = to; j >= 0; j--) {
        const d = buf[j]!;
        if (d === 0x22) {
          const start = stringStart(j);
          if (start === -1) return -1;
          j = start;
        } else if (d === 0x7d || d === 0x5d) depth++;
        else if (d === 0x7b || d === 0x5b) {
          depth--;
          if (depth === 0) return j;
        }
      }
      return -1;
    }
    let j = to;
    while (j >= 0 && isBare(buf[j]!)) j--;
    return j < 0 || j === to ? -1 : j + 1;
  };

  skipSpace();
  if (buf[i] !== 0x7d) return found;
  i--;
  for (;;) {
    skipSpace();
    if (i < 0) return found;
    const last = i;
    const nested = buf[last] === 0x7d || buf[last] === 0x5d;
    const start = valueStart(last);
    if (start === -1) return found;
    const value = nested ? NESTED : primitive(buf.subarray(start, last + 1));
    i = start - 1;
    skipSpace();
    if (buf[i] !== 0x3a) return found;
    i--;
    skipSpace();
    if (buf[i] !== 0x22) return found;
    const keyStart = stringStart(i);
    if (keyStart === -1) return found;
    const key = primitive(buf.subarray(keyStart, i + 1));
    if (typeof key !== 'string') return found;
    found.push([key, value]);
    i = keyStart - 1;
    skipSpace();
    // A comma: more members before this one. An opening brace: the object's start, all read.
    if (buf[i] !== 0x2c) return found;
    i--;
  }
}
