import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle } from './throttle.js';

describe('createThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires a lone trigger at once and nothing after', () => {
    const fire = vi.fn();
    const throttle = createThrottle(100, fire);
    throttle.trigger();
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('turns a burst into one run at its start and one at the end of the window', () => {
    const fire = vi.fn();
    const throttle = createThrottle(100, fire);
    for (let i = 0; i < 50; i++) throttle.trigger();
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(100);
    expect(fire).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(2);
  });

  it('fires at most once per window under a steady stream, the last run after the last trigger', () => {
    const runs: number[] = [];
    const throttle = createThrottle(250, () => runs.push(Date.now()));
    const start = Date.now();
    let lastTrigger = 0;
    // 10 per second for 2 s.
    for (let i = 0; i < 20; i++) {
      lastTrigger = Date.now();
      throttle.trigger();
      vi.advanceTimersByTime(100);
    }
    vi.advanceTimersByTime(1000);
    // Windows start at 0, 250, 500... 2000 ms: one run each, instead of 20.
    expect(runs.length).toBeLessThanOrEqual(9);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(250);
    expect(runs.at(-1)!).toBeGreaterThanOrEqual(lastTrigger);
    expect(runs.at(-1)! - start).toBeLessThanOrEqual(2000);
  });

  it('drops the trailing run when closed', () => {
    const fire = vi.fn();
    const throttle = createThrottle(100, fire);
    throttle.trigger();
    throttle.trigger();
    throttle.close();
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});
