import { describe, expect, it } from 'vitest';
import { RefreshGrace } from './refresh-grace.js';

const T0 = 1_800_000_000_000;
const GRACE = 30_000;

/** A promise settled by the test, standing for a rotation still being signed and saved. */
function pending<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('RefreshGrace', () => {
  it('answers a token rotated within the window with the same answer', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    await grace.start('fam', 'h0', T0, Promise.resolve('pair-1'));
    await expect(grace.find('fam', 'h0', T0 + GRACE)).resolves.toBe('pair-1');
  });

  it('forgets the answer once the window has passed', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    await grace.start('fam', 'h0', T0, Promise.resolve('pair-1'));
    expect(grace.find('fam', 'h0', T0 + GRACE + 1)).toBeUndefined();
    expect(grace.size).toBe(0);
  });

  it('shares a rotation still under way with a concurrent refresh, however long it takes', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    const rotation = pending<string>();
    const first = grace.start('fam', 'h0', T0, rotation.promise);
    const second = grace.find('fam', 'h0', T0 + 10 * GRACE);
    expect(second).toBeDefined();
    rotation.resolve('pair-1');
    expect(await first).toBe('pair-1');
    expect(await second).toBe('pair-1');
  });

  it('does not answer another token of the family, nor another family', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    await grace.start('fam', 'h0', T0, Promise.resolve('pair-1'));
    expect(grace.find('fam', 'h1', T0)).toBeUndefined();
    expect(grace.find('other', 'h0', T0)).toBeUndefined();
  });

  it("keeps one rotation per family: the next one ends the previous token's grace", async () => {
    const grace = new RefreshGrace<string>(GRACE);
    await grace.start('fam', 'h0', T0, Promise.resolve('pair-1'));
    await grace.start('fam', 'h1', T0 + 1000, Promise.resolve('pair-2'));
    expect(grace.find('fam', 'h0', T0 + 1000)).toBeUndefined();
    await expect(grace.find('fam', 'h1', T0 + 1000)).resolves.toBe('pair-2');
  });

  it('forgets a failed rotation, so the same token can be presented again', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    const rotation = pending<string>();
    const answer = grace.start('fam', 'h0', T0, rotation.promise);
    rotation.reject(new Error('disk full'));
    await expect(answer).rejects.toThrow('disk full');
    expect(grace.find('fam', 'h0', T0)).toBeUndefined();
  });

  it('forgets a revoked family', async () => {
    const grace = new RefreshGrace<string>(GRACE);
    await grace.start('fam', 'h0', T0, Promise.resolve('pair-1'));
    grace.forget('fam');
    expect(grace.find('fam', 'h0', T0)).toBeUndefined();
  });
});
