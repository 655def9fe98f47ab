import {
  isInputRequiredResult,
  ProtocolError,
  type Client,
  type JSONRPCMessage,
  type ClientCapabilities,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import {
  ASK_METHODS,
  ASK_REFUSED,
  AskError,
  askRefusal,
  requiredCapabilities,
  type AskMethod,
  type CallContext,
} from './call-context.js';
import type { RelatedMessageExtra } from './http-client-transport.js';

export interface RelayOptions {
  /** The backend's logger: refusals are logged with the reason the backend is told. */
  log: Logger;
  /** The backend's per-request timeout now (`timeoutMs`): a pending question keeps its call alive within it. */
  timeoutMs: () => number;
}

/** A request of ours to the backend on a client's behalf, in flight. */
interface InFlightCall {
  method: string;
  /** The connection it was sent on. */
  client: Client;
  context: CallContext | undefined;
  /** The JSON-RPC id its current leg went out with, once the transport has sent it. */
  id: RequestId | undefined;
  /** Every id it went out with: a 2026-07-28 call is sent again after each input_required round. */
  ids: RequestId[];
  /** Aborted when the request settles, ending what the backend asked for it; made on the first question. */
  ended: AbortController | undefined;
}

/** Which backend request a question is, and its signal (the backend cancelling it aborts it). */
interface AskExtra {
  requestId: RequestId;
  signal: AbortSignal;
}

/** Sends one leg of a call: its first request, or a retry with the answers of an input_required round. */
export type SendLeg = (params: Record<string, unknown> | undefined) => Promise<Record<string, unknown>>;

/**
 * Most input_required rounds one call may take, as the SDK's own driver allows
 * (DEFAULT_INPUT_REQUIRED_MAX_ROUNDS): a server asking without end must not hold a call forever.
 */
export const MAX_INPUT_ROUNDS = 10;

/**
 * Pause before retrying a round that asks nothing (requestState only: a server shedding load),
 * as the SDK's driver paces it; nothing else slows such a loop down.
 */
const STATE_ONLY_PACING_MS = 250;

/**
 * How long, and how many, URL-mode elicitations are remembered for their completion notification:
 * the user may take a while in the browser, but a backend that never completes what it asked
 * must not grow the map without end.
 */
const URL_ELICITATION_TTL_MS = 60 * 60_000;
const MAX_URL_ELICITATIONS = 1000;

/** The backend's requests are relayed as they come: their params need only be an object. */
const looseParams = z.looseObject({});

/**
 * The relay of what one backend asks of the user (sampling, elicitation, roots) to the client whose
 * call caused it: which calls of ours are in flight on the backend's connections, which of them a
 * backend request belongs to (#attribute), the input_required rounds of a 2026-07-28 backend
 * (#rounds), and putting each question to the client within what it declared (#put). The backend composes it: its requests go out through `run`, its connections'
 * clients and transports are wired with `register` and `track`.
 */
export class Relay {
  readonly #options: RelayOptions;
  /** Our requests in flight on clients' behalf (run()), and the same by the id they went out with. */
  readonly #calls = new Set<InFlightCall>();
  readonly #callsById = new Map<RequestId, InFlightCall>();
  /** The call whose client.request() is running right now: the SDK sends it synchronously (see track). */
  #sending: InFlightCall | undefined;
  /** A backend request's id → the id of our request on whose response stream it arrived (Streamable HTTP). */
  readonly #relatedIds = new Map<RequestId, RequestId>();
  /** The URL-mode elicitations put to clients, by elicitationId: whose completion goes to whom. */
  readonly #urlElicitations = new Map<string, { context: CallContext; until: number }>();

  constructor(options: RelayOptions) {
    this.#options = options;
  }

  /**
   * Sends a client's call to the backend and settles with its complete result. While it runs,
   * what the backend asks is attributed to it and put to `context`: a 2025 backend's requests
   * through the handlers (`register`), a 2026-07-28 backend's `input_required` rounds here, each
   * answered by the call's own client and sent back on a retry (`send` again, with
   * `inputResponses` and the `requestState` echoed byte for byte: basic/input-required). The
   * rounds are ours rather than the SDK's driver's because only here is the call known: the SDK
   * hands its handlers the round's key and signal, which name no call, and with two calls in
   * flight on one connection the question could not be put to the right client.
   * `signal` is the client's: it withdraws a pending question when the client gives up.
   */
  run(
    client: Client,
    method: string,
    params: Record<string, unknown> | undefined,
    options: { context: CallContext | undefined; signal: AbortSignal | undefined },
    send: SendLeg,
  ): Promise<Record<string, unknown>> {
    const call: InFlightCall = { method, client, context: options.context, id: undefined, ids: [], ended: undefined };
    this.#calls.add(call);
    return this.#rounds(call, params, options.signal, send).finally(() => {
      call.ended?.abort(new Error(`the ${method} it was asked for has ended`));
      this.#calls.delete(call);
      for (const id of call.ids) if (this.#callsById.get(id) === call) this.#callsById.delete(id);
    });
  }

  async #rounds(
    call: InFlightCall,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal | undefined,
    send: SendLeg,
  ): Promise<Record<string, unknown>> {
    let result = await this.#leg(call, () => send(params));
    for (let round = 1; isInputRequiredResult(result); round++) {
      if (round > MAX_INPUT_ROUNDS) {
        throw new Error(`the backend still asked for input after ${MAX_INPUT_ROUNDS} rounds of ${call.method}`);
      }
      const { inputRequests, requestState } = result as { inputRequests?: unknown; requestState?: unknown };
      const entries = isObject(inputRequests) ? Object.entries(inputRequests) : [];
      let responses: Record<string, unknown> | undefined;
      if (entries.length > 0) responses = await this.#answerRound(call, entries, signal);
      else await pause(STATE_ONLY_PACING_MS, signal);
      const retry = {
        ...params,
        ...(responses && { inputResponses: responses }),
        ...(requestState !== undefined && { requestState }),
      };
      result = await this.#leg(call, () => send(retry));
    }
    return result;
  }

  /** Sends one leg as `call`: the transport notes the id it goes out with (see track). */
  #leg(call: InFlightCall, send: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    this.#sending = call;
    try {
      return send();
    } finally {
      this.#sending = undefined;
    }
  }

  /**
   * Puts one round's questions to the call's client, all at once, as the SDK's driver does; the
   * first that fails withdraws the others and fails the call (an input response has no error form).
   */
  async #answerRound(
    call: InFlightCall,
    entries: [string, unknown][],
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const round = new AbortController();
    const asked = signal ? AbortSignal.any([round.signal, signal]) : round.signal;
    try {
      const answers = await Promise.all(
        entries.map(async ([key, entry]) => {
          try {
            if (!isObject(entry) || !(ASK_METHODS as readonly unknown[]).includes(entry.method)) {
              throw new Error(
                `the backend's input request ${JSON.stringify(key)} is not one of ${ASK_METHODS.join(', ')}`,
              );
            }
            const params = isObject(entry.params) ? entry.params : undefined;
            return [key, await this.#put(call, entry.method as AskMethod, params, asked)] as const;
          } catch (error) {
            round.abort(error);
            throw error;
          }
        }),
      );
      return Object.fromEntries(answers);
    } finally {
      round.abort(new Error('the round is over'));
    }
  }

  /**
   * Registers the relay's handlers on a backend connection's client, for what a 2025 backend asks
   * as requests of its own. A 2026-07-28 backend's input_required rounds do not come this way: the
   * SDK's driver is off (protocol-era.ts) and `run` answers them.
   */
  register(client: Client): void {
    for (const method of ASK_METHODS) {
      // The schema form of the registration: the params pass as they come (a relay interprets
      // neither the question nor the answer).
      client.setRequestHandler(method, { params: looseParams }, (params, ctx) =>
        this.#ask(method, params as Record<string, unknown>, {
          requestId: ctx.mcpReq.id,
          signal: ctx.mcpReq.signal,
        }),
      );
    }
  }

  /**
   * Notes each request's JSON-RPC id as the transport sends it, for the call that sent it. The
   * SDK's Protocol.request() builds the message and hands it to transport.send() synchronously (no
   * await between), so the call running `client.request()` at that moment is the one it belongs
   * to. Were a later SDK to defer the send, ids would go unnoted and attribution would fall back
   * to the one-call-in-flight rule, never to a wrong call.
   */
  track(transport: Transport): void {
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      const call = this.#sending;
      if (call && 'method' in message && 'id' in message) {
        this.#sending = undefined;
        call.id = message.id;
        call.ids.push(message.id);
        this.#callsById.set(message.id, call);
      }
      return send(message, options);
    };
    const deliver = transport.onmessage;
    if (!deliver) return;
    // Our HTTP transport names the request whose response stream a backend request came on.
    transport.onmessage = (message: JSONRPCMessage, extra?: RelatedMessageExtra) => {
      const related = extra?.relatedRequestId;
      if (related !== undefined && 'method' in message && 'id' in message) {
        if ((ASK_METHODS as readonly string[]).includes(message.method)) this.#relatedIds.set(message.id, related);
      }
      deliver(message, extra);
    };
  }

  /**
   * The call a backend request belongs to, or why none can be named. Over Streamable HTTP a
   * request that arrives on the SSE response of one of our POSTs relates to that POST's request
   * (MCP 2025-11-25 basic/transports, "Sending Messages to the Server" 6: the server MAY send
   * requests on that stream, and they SHOULD relate to the client's request). Over stdio, the
   * legacy SSE transport and the standalone GET stream nothing links a request to a call: it is
   * attributed only when exactly one call is in flight, since with two or more any guess could put
   * one client's question to another client.
   */
  #attribute(requestId: RequestId, method: AskMethod): InFlightCall | string {
    const related = this.#relatedIds.get(requestId);
    this.#relatedIds.delete(requestId);
    if (related !== undefined) {
      const call = this.#callsById.get(related);
      if (call) return call;
      return `it relates to request ${JSON.stringify(related)}, which is not a client's call in flight`;
    }
    if (this.#calls.size === 1) return this.#calls.values().next().value!;
    if (this.#calls.size === 0) {
      return `no client call is in flight on this backend, and Cortex Gateway relays ${method} only to the client whose call caused it`;
    }
    return (
      `${this.#calls.size} client calls are in flight on this backend and the request does not say which one it belongs to; ` +
      `to let each client be asked, set "instances": "per-client" for this backend`
    );
  }

  /**
   * Relays what the backend asks (sampling, elicitation, roots) to the client of the call that
   * caused it, within that client's declared capabilities; otherwise answers a JSON-RPC error that
   * says why. The question lasts no longer than the call: it is aborted when the call settles
   * (answered, failed, timed out or cancelled by its client) or the backend cancels its request.
   *
   * Roots: the backend is told the roots of the client whose call it is serving, during that call.
   * On a shared backend a server that keeps the roots it was once told (per connection, as the
   * spec's roots are) could use one client's roots for another client's later calls; the gateway
   * cannot see that, so it declares `roots.listChanged: false` (it has no single client whose
   * changes it could announce) and documents per-client instances for such servers. Refusing roots
   * on shared backends would break the common single-client setup for no gain: the roots are what
   * the calling client chose to show servers it calls, and the owner granted this call.
   */
  async #ask(
    method: AskMethod,
    params: Record<string, unknown> | undefined,
    extra: AskExtra,
  ): Promise<Record<string, unknown>> {
    const call = this.#attribute(extra.requestId, method);
    if (typeof call === 'string') return this.#refuse(method, call, this.#calls.size === 0 ? 'info' : 'warn');
    call.ended ??= new AbortController();
    return this.#put(call, method, params, AbortSignal.any([call.ended.signal, extra.signal]));
  }

  /**
   * Puts one question to the client of `call`, within what it declared, keeping the call alive
   * while its user answers; the client's error is turned into the one the backend is told.
   */
  async #put(
    call: InFlightCall,
    method: AskMethod,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    if (!call.context)
      return this.#refuse(method, `the ${call.method} it belongs to comes from no client that can be asked`);
    const refusal = askRefusal(method, params, call.context.capabilities);
    if (refusal) return this.#refuse(method, refusal, 'info', requiredCapabilities(method, params));
    if (method === 'elicitation/create' && params?.mode === 'url' && typeof params.elicitationId === 'string') {
      this.#rememberUrlElicitation(params.elicitationId, call.context);
    }
    const keepAlive = this.#keepAlive(call);
    try {
      return await call.context.ask(method, params, signal);
    } catch (error) {
      // The client's own error goes to the backend as the client sent it (an SDK 1.x client's
      // message may still carry its "MCP error <code>: " display prefix).
      if (error instanceof ProtocolError) {
        const prefix = `MCP error ${error.code}: `;
        const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
        throw new AskError(error.code, message, error.data, { method, fromClient: true });
      }
      throw error;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Relays the backend's `notifications/elicitation/complete` to the client that was asked the
   * URL-mode elicitation it names, and to no other: elicitation ids are the backend's own, so only
   * the ones this backend asked through the relay are known, each for the client it went to.
   */
  elicitationCompleted(elicitationId: unknown): void {
    const known = typeof elicitationId === 'string' ? this.#urlElicitations.get(elicitationId) : undefined;
    if (!known || known.until < Date.now()) {
      this.#options.log.debug('dropped an elicitation completion for no elicitation it asked', { elicitationId });
      return;
    }
    this.#urlElicitations.delete(elicitationId as string);
    known.context.elicitationComplete?.(elicitationId as string);
  }

  #rememberUrlElicitation(elicitationId: string, context: CallContext): void {
    const now = Date.now();
    for (const [id, entry] of this.#urlElicitations) {
      // Oldest first (insertion order): stop at the first one still current and within the bound.
      if (entry.until >= now && this.#urlElicitations.size < MAX_URL_ELICITATIONS) break;
      this.#urlElicitations.delete(id);
    }
    this.#urlElicitations.set(elicitationId, { context, until: now + URL_ELICITATION_TTL_MS });
  }

  #refuse(method: AskMethod, why: string, level: 'info' | 'warn' = 'warn', required?: ClientCapabilities): never {
    this.#options.log[level](`refused the backend's ${method}: ${why}`, { method });
    throw new AskError(ASK_REFUSED, `Cortex Gateway refused ${method}: ${why}`, undefined, {
      method,
      ...(required && { required }),
    });
  }

  /**
   * While the client's user answers, the call is waiting on them, not stuck: its `timeoutMs` would
   * otherwise cut a form that takes a minute to fill in. A question related to the call counts as
   * a sign of life, as progress does (MCP 2025-11-25 basic/lifecycle, Timeouts: implementations
   * MAY reset the timeout clock on progress), so the call's timeout is restarted while it is
   * pending. The upper bound stays: the client-facing backstop (`gateway.requestTimeoutMs`) and
   * the question's own limit. The SDK 1.x Protocol keeps that clock in a private method, reached
   * here by name; SDK 2.x has the same one, and a missing method only means no restart.
   */
  #keepAlive(call: InFlightCall): NodeJS.Timeout | undefined {
    const protocol = call.client as unknown as { _resetTimeout?: (id: number) => boolean };
    const id = call.id;
    if (typeof id !== 'number' || typeof protocol._resetTimeout !== 'function') return undefined;
    const restart = () => {
      try {
        protocol._resetTimeout!(id);
      } catch {
        // Past a maxTotalTimeout: the SDK ends the call itself.
      }
    };
    restart();
    const timer = setInterval(restart, Math.max(50, Math.floor(this.#options.timeoutMs() / 2)));
    timer.unref();
    return timer;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Waits `ms`, or until `signal` aborts (rejecting with its reason). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
