import type { ServerResponse } from 'node:http';

/**
 * The SSE side of one session's Streamable HTTP transport: event ids, priming events, and the
 * replay logs that let a client resume a stream it lost.
 *
 * MCP 2025-11-25 basic/transports, "Resumability and Redelivery": event ids are unique across all
 * streams of the session and identify the stream they belong to, so ids are one session-wide
 * counter with a prefix naming the stream kind (`s` the standalone stream, `p` a POST's stream).
 * Every stream keeps its recent events in a bounded log (ReplayLog), and a GET naming one of its
 * ids in `Last-Event-ID` gets the events after it, on that stream: the standalone stream's log
 * here, a POST stream's in the transport (http-transport.ts), which also keeps a POST stream's log
 * a short while after its last answer, for a client that lost the stream just before it.
 *
 * The gateway never closes a stream early to make the client poll (basic/transports, "Polling SSE
 * streams"): a POST stream ends after its answers, the standalone stream with the session. So it
 * sends no `retry:` field, which is what a server that closes a stream early SHOULD send first.
 */
export interface ReplayLimits {
  /** Events kept for replay; the oldest go first. */
  maxEvents: number;
  /** Bytes of event data kept for replay, summed over the kept events. */
  maxBytes: number;
}

/**
 * What a client that lost its standalone stream can get back: a few seconds of list_changed, logs
 * and resource updates, which are small. A client gone longer re-lists anyway when it reconnects.
 */
export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { maxEvents: 200, maxBytes: 512 * 1024 };

const KEEPALIVE_MS = 25_000;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
} as const;

function frame(id: string, data: string): string {
  return `id: ${id}\nevent: message\ndata: ${data}\n\n`;
}

/**
 * An event with an id and empty data, sent first so the client holds an id to reconnect from
 * (MCP 2025-11-25 basic/transports, "Sending Messages to the Server" 6).
 */
function primingFrame(id: string): string {
  return `id: ${id}\ndata: \n\n`;
}

/** Stream kinds, the prefix of their event ids. */
type StreamKind = 'p' | 's';

/** The sequence number of an event id of the given kind, or undefined when it is not one. */
export function eventSeq(id: string, kind: StreamKind): number | undefined {
  const match = /^([ps])(\d+)$/.exec(id);
  return match?.[1] === kind ? Number(match[2]) : undefined;
}

/**
 * The events one stream sent, newest last, bounded by ReplayLimits (the oldest go first), for a
 * client that resumes the stream after one of its ids. It knows every id the stream gave, kept or
 * not, so it can tell its own ids from another stream's.
 */
export class ReplayLog {
  readonly #limits: ReplayLimits;
  readonly #entries: Array<{ seq: number; frame: string; bytes: number }> = [];
  #bytes = 0;
  #first: number | undefined;
  #last = 0;

  constructor(limits: ReplayLimits) {
    this.#limits = limits;
  }

  /** Takes note of an id the stream gave to an event that has nothing to replay (a priming event). */
  mark(seq: number): void {
    this.#first ??= seq;
    this.#last = seq;
  }

  /**
   * Keeps an event. The newest is kept whatever its size: on a POST stream it is often the answer
   * the client is waiting for.
   */
  push(seq: number, frame: string, bytes: number): void {
    this.mark(seq);
    this.#entries.push({ seq, frame, bytes });
    this.#bytes += bytes;
    while (
      this.#entries.length > 1 &&
      (this.#entries.length > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes)
    ) {
      this.#bytes -= this.#entries.shift()!.bytes;
    }
  }

  /** Whether this stream gave the event with that sequence number. */
  covers(seq: number): boolean {
    return this.#first !== undefined && this.#first <= seq && seq <= this.#last;
  }

  /** The kept events after `seq`, oldest first. Events older than the log holds are lost. */
  after(seq: number): string[] {
    return this.#entries.filter((event) => event.seq > seq).map((event) => event.frame);
  }
}

/** Event ids of one session, and the replay log of its standalone stream. */
export class SessionEvents {
  readonly #limits: ReplayLimits;
  #counter = 0;
  readonly #standalone: ReplayLog;

  constructor(limits: ReplayLimits = DEFAULT_REPLAY_LIMITS) {
    this.#limits = limits;
    this.#standalone = new ReplayLog(limits);
  }

  /** A new log for a POST's stream, with this session's limits. */
  postLog(): ReplayLog {
    return new ReplayLog(this.#limits);
  }

  /** A message on a POST's stream, kept in that stream's log when it has one. */
  postFrame(data: string, log?: ReplayLog): string {
    const seq = ++this.#counter;
    const event = frame(`p${seq}`, data);
    log?.push(seq, event, Buffer.byteLength(data));
    return event;
  }

  postPriming(log?: ReplayLog): string {
    const seq = ++this.#counter;
    log?.mark(seq);
    return primingFrame(`p${seq}`);
  }

  standalonePriming(): string {
    const seq = ++this.#counter;
    this.#standalone.mark(seq);
    return primingFrame(`s${seq}`);
  }

  /** A message for the standalone stream, kept for replay. */
  standaloneFrame(data: string): string {
    const seq = ++this.#counter;
    const event = frame(`s${seq}`, data);
    this.#standalone.push(seq, event, Buffer.byteLength(data));
    return event;
  }

  /**
   * The kept standalone events after `lastEventId`, oldest first; undefined when the id is not one
   * of this session's standalone ids (a POST stream's, or foreign), which has nothing to replay.
   * Events older than the log holds are lost: the client gets what is left.
   */
  replayAfter(lastEventId: string): string[] | undefined {
    const seq = eventSeq(lastEventId, 's');
    if (seq === undefined || seq > this.#counter) return undefined;
    return this.#standalone.after(seq);
  }

  /** Whether the id is one this session gave an event on a POST's stream. */
  isPostEventId(lastEventId: string): boolean {
    const seq = eventSeq(lastEventId, 'p');
    return seq !== undefined && seq <= this.#counter;
  }
}

export type AttachResult = { ok: true } | { ok: false; status: number; message: string };

/**
 * The session's standalone SSE stream (a GET), on which the server sends what relates to no
 * request. Once the client has opened it, messages meant for it are kept for replay even while it
 * is disconnected, so a client that reconnects with `Last-Event-ID` misses nothing the log holds.
 */
export class StandaloneStream {
  readonly #events: SessionEvents;
  readonly #headers: Record<string, string>;
  #res: ServerResponse | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #everOpened = false;

  constructor(events: SessionEvents, headers: Record<string, string>) {
    this.#events = events;
    this.#headers = headers;
  }

  get open(): boolean {
    return this.#res !== undefined && !this.#res.writableEnded;
  }

  /**
   * Serves a GET (one naming a POST stream's id is the transport's, which resumes that stream).
   * A second stream is refused (409) unless it resumes this one with `Last-Event-ID`:
   * a client reconnecting after a network drop may arrive before the old socket is known dead,
   * and the new stream replaces it.
   */
  attach(res: ServerResponse, lastEventId: string | undefined, prime: boolean): AttachResult {
    if (lastEventId !== undefined && this.#events.isPostEventId(lastEventId)) {
      return {
        ok: false,
        status: 405,
        message: 'Method Not Allowed: that POST response stream has nothing more to send',
      };
    }
    const replay = lastEventId === undefined ? undefined : this.#events.replayAfter(lastEventId);
    if (this.open) {
      if (!replay) return { ok: false, status: 409, message: 'Conflict: this session already has an open SSE stream' };
      this.#detach()?.end();
    }
    res.writeHead(200, { ...SSE_HEADERS, ...this.#headers });
    let head = prime ? this.#events.standalonePriming() : '';
    if (replay) head += replay.join('');
    if (head) res.write(head);
    else res.flushHeaders();
    this.#res = res;
    this.#everOpened = true;
    // Comments keep idle proxies and tunnels from closing the stream.
    this.#keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.#keepalive.unref();
    res.once('close', () => {
      if (this.#res === res) this.#detach();
    });
    return { ok: true };
  }

  /** Sends a message if the stream is open, and keeps it for replay once the client has used the stream. */
  send(data: string): void {
    if (!this.#everOpened) return;
    const event = this.#events.standaloneFrame(data);
    if (this.open) this.#res!.write(event);
  }

  end(): void {
    this.#detach()?.end();
  }

  #detach(): ServerResponse | undefined {
    const res = this.#res;
    this.#res = undefined;
    clearInterval(this.#keepalive);
    return res;
  }
}
