import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ReplayLog, SessionEvents, StandaloneStream } from './sse-stream.js';

const idOf = (frame: string) => /^id: (\S+)/.exec(frame)![1]!;

describe('SessionEvents', () => {
  it('numbers events across all streams of the session, prefixed by stream kind', () => {
    const events = new SessionEvents();
    const ids = [
      events.postPriming(),
      events.postFrame('{}'),
      events.standaloneFrame('{}'),
      events.standalonePriming(),
    ];
    expect(ids.map(idOf)).toEqual(['p1', 'p2', 's3', 's4']);
  });

  it('frames a message with its id and a priming event with empty data', () => {
    const events = new SessionEvents();
    expect(events.postFrame('{"a":1}')).toBe('id: p1\nevent: message\ndata: {"a":1}\n\n');
    expect(events.postPriming()).toBe('id: p2\ndata: \n\n');
  });

  it('replays the standalone events after an id, and only those', () => {
    const events = new SessionEvents();
    const first = events.standaloneFrame('1');
    events.postFrame('not replayed');
    const second = events.standaloneFrame('2');
    expect(events.replayAfter(idOf(first))).toEqual([second]);
    expect(events.replayAfter(idOf(second))).toEqual([]);
  });

  it('has nothing to replay after a POST stream id or a foreign id', () => {
    const events = new SessionEvents();
    const post = events.postFrame('x');
    events.standaloneFrame('y');
    expect(events.replayAfter(idOf(post))).toBeUndefined();
    expect(events.replayAfter('s999')).toBeUndefined();
    expect(events.replayAfter('garbage')).toBeUndefined();
  });

  it('keeps at most maxEvents and maxBytes, dropping the oldest', () => {
    const byCount = new SessionEvents({ maxEvents: 2, maxBytes: 1000 });
    const frames = [1, 2, 3].map((n) => byCount.standaloneFrame(String(n)));
    expect(byCount.replayAfter('s0')).toEqual(frames.slice(1));
    const byBytes = new SessionEvents({ maxEvents: 100, maxBytes: 10 });
    const big = [byBytes.standaloneFrame('123456'), byBytes.standaloneFrame('789012')];
    expect(byBytes.replayAfter('s0')).toEqual([big[1]]);
  });
});

describe('ReplayLog', () => {
  it("keeps a POST stream's events and knows every id it gave, kept or not", () => {
    const events = new SessionEvents({ maxEvents: 2, maxBytes: 1000 });
    const log = events.postLog();
    const ids = [events.postPriming(log), ...['a', 'b', 'c'].map((d) => events.postFrame(d, log))].map(idOf);
    events.standaloneFrame('other stream');
    expect(ids).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect([1, 2, 3, 4].map((seq) => log.covers(seq))).toEqual([true, true, true, true]);
    expect(log.covers(5)).toBe(false);
    expect(log.after(1).map((f) => /data: (.*)/.exec(f)![1])).toEqual(['b', 'c']);
    expect(log.after(4)).toEqual([]);
  });

  it('keeps the newest event whatever its size', () => {
    const log = new ReplayLog({ maxEvents: 10, maxBytes: 4 });
    log.push(1, 'small', 2);
    log.push(2, 'the answer', 100);
    expect(log.after(0)).toEqual(['the answer']);
  });
});

/** Just what StandaloneStream uses of a ServerResponse, recording what was written. */
class FakeResponse extends EventEmitter {
  written = '';
  status = 0;
  writableEnded = false;
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  flushHeaders() {}
  write(chunk: string) {
    this.written += chunk;
    return true;
  }
  end() {
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
}
const fake = () => new FakeResponse() as FakeResponse & ServerResponse;

describe('StandaloneStream', () => {
  it('primes when asked, then sends', () => {
    const stream = new StandaloneStream(new SessionEvents(), {});
    const res = fake();
    expect(stream.attach(res, undefined, true)).toEqual({ ok: true });
    stream.send('{"m":1}');
    expect(res.written).toBe('id: s1\ndata: \n\nid: s2\nevent: message\ndata: {"m":1}\n\n');
    stream.end();
  });

  it('drops messages before the client ever opened it, and keeps them once it has', () => {
    const events = new SessionEvents();
    const stream = new StandaloneStream(events, {});
    stream.send('before');
    expect(events.replayAfter('s0')).toEqual([]);
    const res = fake();
    stream.attach(res, undefined, false);
    res.end();
    stream.send('while away');
    const again = fake();
    stream.attach(again, 's0', false);
    expect(again.written).toContain('data: while away');
    expect(again.written).not.toContain('before');
    stream.end();
  });

  it('refuses a second plain GET with 409 and lets a resuming one take over', () => {
    const stream = new StandaloneStream(new SessionEvents(), {});
    const first = fake();
    stream.attach(first, undefined, true);
    expect(stream.attach(fake(), undefined, true)).toMatchObject({ ok: false, status: 409 });
    const second = fake();
    expect(stream.attach(second, 's1', true)).toEqual({ ok: true });
    expect(first.writableEnded).toBe(true);
    stream.send('x');
    expect(second.written).toContain('data: x');
    stream.end();
  });

  it('answers 405 to a GET resuming a POST stream, and still serves a plain GET', () => {
    const events = new SessionEvents();
    const post = events.postPriming();
    const stream = new StandaloneStream(events, {});
    expect(stream.attach(fake(), idOf(post), true)).toMatchObject({ ok: false, status: 405 });
    expect(stream.open).toBe(false);
    expect(stream.attach(fake(), undefined, true)).toEqual({ ok: true });
    stream.end();
  });
});
