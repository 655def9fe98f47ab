/**
 * What a backend asks during a 2026-07-28 client's call, put to that client the revision's way:
 * the call's answer becomes an `input_required` result naming the questions, the client retries
 * the same request with `inputResponses` and the `requestState` it was given, and the answers go
 * to the backend, whose call goes on (basic/patterns/mrtr, "multi-round-trip requests").
 *
 * The backend call does not stop between rounds: it is one request to the backend, waiting for its
 * questions to be answered. So the state lives here, not in `requestState`: the client holds only
 * an unguessable handle (256 random bits) bound to its principal, which makes a tampered, replayed
 * or stolen state a miss (mrtr server requirements 4–5: state that steers access must be
 * integrity-protected). A call waiting for answers is bounded in time and in number.
 */
import { randomBytes } from 'node:crypto';

/** A question a backend put to the calling client (sampling, elicitation, roots). */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

export type Round =
  | { kind: 'complete'; result: unknown }
  | { kind: 'input_required'; inputRequests: Record<string, InputRequest>; requestState: string };

/** How the call asks: the CallContext `ask` of src/backends/call-context.ts, for this call. */
export type Ask = (
  method: string,
  params: Record<string, unknown> | undefined,
  signal: AbortSignal,
) => Promise<Record<string, unknown>>;

export interface InputRoundsOptions {
  now: () => number;
  /** How long a call may wait for the client's answers before it is cancelled. */
  waitMs: number;
  /** Calls waiting for answers at once, over all clients; the oldest is cancelled beyond it. */
  maxWaiting: number;
}

interface Question extends InputRequest {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
  /** Put to the client in a round already (it owes the answer in a retry). */
  asked: boolean;
}

interface Waiting {
  /** The requestState naming it, given once it first asks (a call that never asks costs no entry). */
  handle: string | undefined;
  owner: string;
  /** What the retry must repeat: the method and the name it called. */
  request: string;
  controller: AbortController;
  questions: Map<string, Question>;
  outcome: { settled: false } | { settled: true; ok: boolean; value: unknown };
  /** Wakes the round waiting for the next thing to happen (a question, or the call's end). */
  wake: (() => void) | undefined;
  expires: number;
  nextKey: number;
}

/** The error the retry gets for a state that names no waiting call of its principal (the SDK's wording). */
export class RequestStateError extends Error {
  readonly code = -32602;
  readonly data = { reason: 'invalid_request_state' };
  constructor() {
    super('Invalid or expired requestState');
  }
}

export interface InputRounds {
  /**
   * Starts a call that may ask; resolves with its result, or with the questions it asked before
   * finishing. `request` names what the call is (method and name), which a retry must repeat.
   */
  start(
    owner: string,
    request: string,
    call: (ask: Ask, signal: AbortSignal) => Promise<unknown>,
    signal?: AbortSignal,
  ): Promise<Round>;
  /** A retry: gives the answers to the call `requestState` names and resolves with its next round. */
  resume(
    owner: string,
    request: string,
    requestState: string,
    responses: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Round>;
  /** Calls past their wait are cancelled; run by the endpoint's sweeper. */
  sweep(): void;
  /** Cancels every waiting call (the gateway stops). */
  close(): void;
  readonly waitingCount: number;
}

export function createInputRounds(options: InputRoundsOptions): InputRounds {
  const waiting = new Map<string, Waiting>();

  const cancel = (handle: string, why: string) => {
    const entry = waiting.get(handle);
    if (entry) stop(entry, why);
  };
  const stop = (entry: Waiting, why: string) => {
    if (entry.handle !== undefined) waiting.delete(entry.handle);
    const error = new Error(why);
    for (const question of entry.questions.values()) question.reject(error);
    entry.controller.abort(error);
  };

  /**
   * The next round of a call: its result once it settles; else, once the call has asked something
   * the client was not asked yet, those questions. Questions the backend puts at once (in the same
   * turn of the event loop) go out together.
   */
  const next = async (entry: Waiting, retried = false): Promise<Round> => {
    for (let first = true; ; first = false) {
      if (entry.outcome.settled) {
        if (entry.handle !== undefined) waiting.delete(entry.handle);
        if (entry.outcome.ok) return { kind: 'complete', result: entry.outcome.value };
        throw entry.outcome.value;
      }
      const open = [...entry.questions];
      // A question the retry left unanswered is asked again (mrtr: a missing input response is a
      // question still open, not an error), along with any new one.
      const ask = open.some(([, q]) => !q.asked) || (retried && first && open.length > 0);
      if (ask) {
        // A new state each round (mrtr: each InputRequiredResult carries its own): the previous
        // one, already used by the retry, names nothing any more and cannot be replayed.
        if (entry.handle !== undefined) waiting.delete(entry.handle);
        const handle = (entry.handle = register(entry));
        for (const [, question] of open) question.asked = true;
        entry.expires = options.now() + options.waitMs;
        const inputRequests: Record<string, InputRequest> = {};
        for (const [key, { method, params }] of open) inputRequests[key] = { method, ...(params && { params }) };
        return { kind: 'input_required', inputRequests, requestState: handle };
      }
      await new Promise<void>((resolve) => (entry.wake = resolve));
      entry.wake = undefined;
      // Let the backend's other questions of the same moment arrive before answering.
      if (!entry.outcome.settled) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  /**
   * A round the client stops waiting for (its HTTP request went away) ends the call: nobody would
   * hear of its questions or its result. `signal` is that request's; once the round is answered
   * the call no longer depends on it.
   */
  const watched = (entry: Waiting, round: Promise<Round>, signal: AbortSignal | undefined): Promise<Round> => {
    if (!signal) return round;
    const onAbort = () => stop(entry, 'The client went away');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return round.finally(() => signal.removeEventListener('abort', onAbort));
  };

  const register = (entry: Waiting): string => {
    const handle = randomBytes(32).toString('base64url');
    waiting.set(handle, entry);
    if (waiting.size > options.maxWaiting) {
      cancel(waiting.keys().next().value!, 'Too many calls are waiting for answers; the oldest was cancelled');
    }
    return handle;
  };

  return {
    get waitingCount() {
      return waiting.size;
    },

    start(owner, request, call, signal) {
      const entry: Waiting = {
        handle: undefined,
        owner,
        request,
        controller: new AbortController(),
        questions: new Map(),
        outcome: { settled: false },
        wake: undefined,
        expires: options.now() + options.waitMs,
        nextKey: 0,
      };
      const ask: Ask = (method, params, signal) =>
        new Promise((resolve, reject) => {
          const key = `q${++entry.nextKey}`;
          const done = () => entry.questions.delete(key);
          entry.questions.set(key, {
            method,
            ...(params && { params }),
            asked: false,
            resolve: (result) => (done(), resolve(result)),
            reject: (error) => (done(), reject(error)),
          });
          signal.addEventListener('abort', () => entry.questions.get(key)?.reject(new Error('The call ended')), {
            once: true,
          });
          entry.wake?.();
        });
      call(ask, entry.controller.signal).then(
        (value) => {
          entry.outcome = { settled: true, ok: true, value };
          entry.wake?.();
        },
        (error: unknown) => {
          entry.outcome = { settled: true, ok: false, value: error };
          entry.wake?.();
        },
      );
      return watched(entry, next(entry), signal);
    },

    resume(owner, request, requestState, responses, signal) {
      const entry = waiting.get(requestState);
      // Another principal's state, or one for another request, is as unknown as a forged one.
      if (!entry || entry.owner !== owner || entry.request !== request) return Promise.reject(new RequestStateError());
      for (const [key, response] of Object.entries(responses)) {
        const question = entry.questions.get(key);
        // Answers to questions never asked are ignored (mrtr: extra input responses are ignored).
        if (!question?.asked) continue;
        if (typeof response === 'object' && response !== null && !Array.isArray(response)) {
          question.resolve(response as Record<string, unknown>);
        }
      }
      return watched(entry, next(entry, true), signal);
    },

    sweep() {
      const now = options.now();
      for (const [handle, entry] of waiting) {
        if (entry.expires <= now) cancel(handle, 'The client did not answer in time');
      }
    },

    close() {
      for (const handle of [...waiting.keys()]) cancel(handle, 'Cortex Gateway is shutting down');
    },
  };
}
