import { describe, expect, it } from 'vitest';
import { createSerialQueue } from './serial-queue.js';

describe('serial queue', () => {
  it('runs tasks one at a time, in the order they were queued', async () => {
    const queue = createSerialQueue();
    const events: string[] = [];
    let running = 0;
    const task = (name: string, turns: number) => async () => {
      running++;
      expect(running).toBe(1);
      events.push(`start ${name}`);
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      events.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([queue(task('a', 3)), queue(task('b', 1)), queue(task('c', 2))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('gives a failure to its own caller and goes on with the next task', async () => {
    const queue = createSerialQueue();
    const failed = queue(async () => {
      throw new Error('boom');
    });
    const next = queue(async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
