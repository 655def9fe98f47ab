import { describe, expect, it } from 'vitest';
import { createInputRounds, RequestStateError, type Ask } from './input-rounds.js';

const rounds = (now = () => 0, maxWaiting = 10) => createInputRounds({ now, waitMs: 1000, maxWaiting });

/** A call that asks what `script` says, in order, and returns the answers it got. */
const asking =
  (...questions: string[]) =>
  async (ask: Ask, signal: AbortSignal) => {
    const answers = [];
    for (const method of questions) answers.push(await ask(method, { q: method }, signal));
    return { answers };
  };

describe('input rounds (2026-07-28 multi-round-trip, for a backend that asks mid-call)', () => {
  it('answers a call that asks nothing with its result', async () => {
    const round = await rounds().start('alice', 'tools/call a', async () => ({ ok: true }));
    expect(round).toEqual({ kind: 'complete', result: { ok: true } });
  });

  it('turns a question into input_required, and the retry’s answer into the result', async () => {
    const r = rounds();
    const first = await r.start('alice', 'tools/call a', asking('elicitation/create'));
    expect(first.kind).toBe('input_required');
    if (first.kind !== 'input_required') return;
    const [key] = Object.keys(first.inputRequests);
    expect(first.inputRequests[key!]).toEqual({ method: 'elicitation/create', params: { q: 'elicitation/create' } });
    expect(first.requestState).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.waitingCount).toBe(1);

    const second = await r.resume('alice', 'tools/call a', first.requestState, { [key!]: { action: 'accept' } });
    expect(second).toEqual({ kind: 'complete', result: { answers: [{ action: 'accept' }] } });
    expect(r.waitingCount).toBe(0);
  });

  it('asks the questions put at the same moment together', async () => {
    const first = await rounds().start('alice', 'x', async (ask, signal) =>
      Promise.all([ask('roots/list', undefined, signal), ask('sampling/createMessage', {}, signal)]),
    );
    expect(first.kind === 'input_required' && Object.values(first.inputRequests).map((q) => q.method)).toEqual([
      'roots/list',
      'sampling/createMessage',
    ]);
  });

  it('goes round as often as the backend asks', async () => {
    const r = rounds();
    let round = await r.start('alice', 'x', asking('roots/list', 'sampling/createMessage', 'elicitation/create'));
    const methods: string[] = [];
    while (round.kind === 'input_required') {
      const [key, question] = Object.entries(round.inputRequests)[0]!;
      methods.push(question.method);
      round = await r.resume('alice', 'x', round.requestState, { [key]: { from: question.method } });
    }
    expect(methods).toEqual(['roots/list', 'sampling/createMessage', 'elicitation/create']);
    expect(round.kind === 'complete' && round.result).toEqual({
      answers: [{ from: 'roots/list' }, { from: 'sampling/createMessage' }, { from: 'elicitation/create' }],
    });
  });

  it('asks again what a retry left unanswered, and ignores answers to questions never asked', async () => {
    const r = rounds();
    const first = await r.start('alice', 'x', asking('elicitation/create'));
    if (first.kind !== 'input_required') throw new Error('expected a question');
    const again = await r.resume('alice', 'x', first.requestState, { stranger: { action: 'accept' } });
    if (again.kind !== 'input_required') throw new Error('expected the question again');
    expect(again.inputRequests).toEqual(first.inputRequests);
    expect(again.requestState).not.toBe(first.requestState);
    await expect(r.resume('alice', 'x', first.requestState, {})).rejects.toBeInstanceOf(RequestStateError);
  });

  it('refuses a state of another principal, another request, or one never issued, and keeps the call waiting', async () => {
    const r = rounds();
    const first = await r.start('alice', 'tools/call a', asking('elicitation/create'));
    if (first.kind !== 'input_required') throw new Error('expected a question');
    await expect(r.resume('mallory', 'tools/call a', first.requestState, {})).rejects.toBeInstanceOf(RequestStateError);
    await expect(r.resume('alice', 'tools/call b', first.requestState, {})).rejects.toBeInstanceOf(RequestStateError);
    await expect(r.resume('alice', 'tools/call a', first.requestState + 'x', {})).rejects.toMatchObject({
      code: -32602,
      data: { reason: 'invalid_request_state' },
    });
    expect(r.waitingCount).toBe(1);
  });

  it('cancels a call whose client does not answer in time: the backend’s question fails and its call is aborted', async () => {
    let clock = 0;
    const r = rounds(() => clock);
    let aborted = false;
    let questionError: unknown;
    const first = await r.start('alice', 'x', async (ask, signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      await ask('elicitation/create', {}, signal).catch((error: unknown) => (questionError = error));
      return 'late';
    });
    if (first.kind !== 'input_required') throw new Error('expected a question');
    clock = 999;
    r.sweep();
    expect(r.waitingCount).toBe(1);
    clock = 1000;
    r.sweep();
    expect(r.waitingCount).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(aborted).toBe(true);
    expect(String(questionError)).toMatch(/did not answer in time/);
    await expect(r.resume('alice', 'x', first.requestState, {})).rejects.toBeInstanceOf(RequestStateError);
  });

  it('keeps at most maxWaiting calls waiting, cancelling the oldest', async () => {
    const r = rounds(() => 0, 2);
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      const round = await r.start('alice', 'x', asking('roots/list'));
      if (round.kind === 'input_required') states.push(round.requestState);
    }
    expect(r.waitingCount).toBe(2);
    await expect(r.resume('alice', 'x', states[0]!, {})).rejects.toBeInstanceOf(RequestStateError);
  });

  it('relays the call’s failure to the round that waits for it', async () => {
    const r = rounds();
    const first = await r.start('alice', 'x', async (ask, signal) => {
      await ask('roots/list', undefined, signal);
      throw Object.assign(new Error('backend broke'), { code: -32000 });
    });
    if (first.kind !== 'input_required') throw new Error('expected a question');
    const key = Object.keys(first.inputRequests)[0]!;
    await expect(r.resume('alice', 'x', first.requestState, { [key]: { roots: [] } })).rejects.toMatchObject({
      code: -32000,
      message: 'backend broke',
    });
  });

  it('ends the call when the client leaves before its round is answered, but not after', async () => {
    const r = rounds();
    const leaving = new AbortController();
    let aborted = false;
    const round = r.start(
      'alice',
      'x',
      (_ask, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('cancelled'));
          }),
        ),
      leaving.signal,
    );
    leaving.abort();
    await expect(round).rejects.toThrow('cancelled');
    expect(aborted).toBe(true);

    const staying = new AbortController();
    const first = await r.start('alice', 'x', asking('roots/list'), staying.signal);
    staying.abort();
    expect(first.kind).toBe('input_required');
    expect(r.waitingCount).toBe(1);
  });
});
