import type { ServerResponse } from 'node:http';

/**
 * The SSE side of one session's Streamable HTTP transport: event ids, priming events, and the
 * standalone GET stream with its replay log.
 *
 * MCP 2025-11-25 basic/transports, "Resumability and Redelivery": event ids are unique across all
 * streams of the session and identify the stream they belong to, so ids are one session-wide
 * counter with a prefix naming the stream kind (`s` the standalone stream, `p` a POST's stream).
 * Only the standalone stream is resumable: its events are kept in a small bounded log and replayed
 * after the `Last-Event-ID` a reconnecting GET names. A POST stream is not (its answer is owed to
 * one request, which the transport answers or ends): a GET naming one of its ids gets 405, the
 * answer basic/transports gives a GET the server offers no stream for. Why not a stream: the SDK
 * 1.x client takes any stream with event ids for resumable, and after one that ended with an error
 * response (not a result) or with no response (cancelled) it reconnects with GET and Last-Event-ID;
 * a stream that then ended would make it reconnect forever, a 409 (the GET stream being open)
 * makes it retry and report errors, and a 405 makes it stop quietly.
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

/** Event ids of one session, and the replay log of its standalone stream. */
export class SessionEvents {
  readonly #limits: ReplayLimits;
  #counter = 0;
  readonly #log: Array<{ seq: number; frame: string; bytes: number }> = [];
  #logBytes = 0;

  constructor(limits: ReplayLimits = DEFAULT_REPLAY_LIMITS) {
    this.#limits = limits;
  }

  /** A message on a POST's stream. */
  postFrame(data: string): string {
    return frame(`p${++this.#counter}`, data);
  }

  postPriming(): string {
    return primingFrame(`p${++this.#counter}`);
  }

  standalonePriming(): string {
    return primingFrame(`s${++this.#counter}`);
  }

  /** A message for the standalone stream, kept for replay. */
  standaloneFrame(data: string): string {
    const seq = ++this.#counter;
    const event = frame(`s${seq}`, data);
    const bytes = Buffer.byteLength(data);
    this.#log.push({ seq, frame: event, bytes });
    this.#logBytes += bytes;
    while (
      this.#log.length > this.#limits.maxEvents ||
      (this.#logBytes > this.#limits.maxBytes && this.#log.length > 0)
    ) {
      this.#logBytes -= this.#log.shift()!.bytes;
    }
    return event;
  }

  /**
   * The kept standalone events after `lastEventId`, oldest first; undefined when the id is not one
   * of this session's standalone ids (a POST stream's, or foreign), which has nothing to replay.
   * Events older than the log holds are lost: the client gets what is left.
   */
  replayAfter(lastEventId: string): string[] | undefined {
    const match = /^s(\d+)$/.exec(lastEventId);
    if (!match) return undefined;
    const seq = Number(match[1]);
    if (seq > this.#counter) return undefined;
    return this.#log.filter((event) => event.seq > seq).map((event) => event.frame);
  }

  /** Whether the id is one this session gave an event on a POST's stream. */
  isPostEventId(lastEventId: string): boolean {
    const match = /^p(\d+)$/.exec(lastEventId);
    return match !== null && Number(match[1]) <= this.#counter;
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
   * Serves a GET. A second stream is refused (409) unless it resumes this one with `Last-Event-ID`:
   * a client reconnecting after a network drop may arrive before the old socket is known dead,
   * and the new stream replaces it.
   */
  attach(res: ServerResponse, lastEventId: string | undefined, prime: boolean): AttachResult {
    if (lastEventId !== undefined && this.#events.isPostEventId(lastEventId)) {
      return { ok: false, status: 405, message: 'Method Not Allowed: a POST response stream cannot be resumed' };
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
