import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser.js';

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

describe('SseParser', () => {
  it('parses a message event', () => {
    expect(parse(['event: message\ndata: {"a":1}\n\n'])).toEqual([{ event: 'message', data: '{"a":1}' }]);
  });
  it('defaults the event type to message and keeps the id', () => {
    expect(parse(['id: 7\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: '7' }]);
  });
  it('joins multi-line data with newlines', () => {
    expect(parse(['data: a\ndata: b\n\n'])[0]!.data).toBe('a\nb');
  });
  it('handles events split across chunks, including a CRLF split in two', () => {
    expect(parse(['data: hel', 'lo\r', '\n\r\n'])).toEqual([{ event: 'message', data: 'hello' }]);
  });
  it('ignores comments and events without data', () => {
    expect(parse([': keepalive\n\nevent: ping\n\n'])).toEqual([]);
  });
});
