import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer.js';

describe('RingBuffer.since', () => {
  it('returns what was pushed after a mark, as much of it as is still kept', () => {
    const buffer = new RingBuffer<number>(3);
    buffer.push(1);
    const mark = buffer.pushed;
    expect(buffer.since(mark)).toEqual([]);
    buffer.push(2);
    expect(buffer.since(mark)).toEqual([2]);
    for (const n of [3, 4, 5]) buffer.push(n);
    expect(buffer.pushed).toBe(5);
    expect(buffer.since(mark)).toEqual([3, 4, 5]);
  });
});
