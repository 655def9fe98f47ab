import {
  Client,
  SdkError,
  SdkErrorCode,
  type ClientOptions,
  type ConnectOptions,
  type McpSubscription,
  type Transport,
} from '@modelcontextprotocol/client';

/**
 * Which MCP era a backend speaks, and how the gateway finds out: the 2026-07-28 revision
 * (stateless: no initialize, `server/discover`, each request's version and capabilities in its
 * `_meta`) or a 2025 revision (the initialize handshake).
 *
 * The SDK 2.x client does the detection (`versionNegotiation: 'auto'`): it sends `server/discover`
 * first and falls back to initialize on anything that is not modern evidence, as the 2026-07-28
 * spec says (basic/lifecycle, "Backward compatibility"). How each transport fares:
 * - Streamable HTTP: the probe is one POST. A 2025 server refuses it (400 "not initialized", a
 *   JSON-RPC error, 404/405 for an HTTP+SSE server) and the client runs initialize on the same
 *   transport. Silence is an outage there, and fails the start.
 * - stdio: our own transport (stdio-transport.ts), so the SDK probes in place, on the child that
 *   will serve the session. TypeScript SDK servers answer the unknown method at once (-32601),
 *   Python ones with -32602; the cost is one round trip. A server that never answers is taken for
 *   a 2025 one after `STDIO_PROBE_TIMEOUT_MS`; a server that exits on the unknown request is
 *   started again and sent initialize at once (the spec's "restart the server before initialize").
 * - legacy HTTP+SSE: the 2024-11-05 transport; initialize at once.
 * A 2025 verdict is remembered while it holds (see EraMemory), so a restart or a new session
 * after the first connect costs nothing.
 */

/** The newest revision the gateway speaks to backends. */
export const MODERN_REVISION = '2026-07-28';

/**
 * How long a stdio server may stay silent on `server/discover` before it counts as a 2025 server
 * (some never answer a request before initialize). The probe goes out at spawn: a server that is
 * still starting answers once it is up, whatever this is, so this only costs a server that is up
 * and silent, once (the verdict is remembered).
 */
export const STDIO_PROBE_TIMEOUT_MS = 5_000;

/** How to open the connection: find the era, or go straight to initialize. */
export type EraPlan = 'negotiate' | 'legacy';

/**
 * An SDK client for one backend connection. `capabilities` are what the gateway declares to the
 * backend (the relay of sampling, elicitation and roots is declared by the caller).
 */
export function createBackendClient(
  clientInfo: { name: string; version: string },
  options: Pick<ClientOptions, 'capabilities'> & { plan: EraPlan; stdio: boolean; startupTimeoutMs: number },
): Client {
  const { plan, stdio, startupTimeoutMs, ...given } = options;
  // A 2026-07-28 backend's input_required results are fulfilled by the relay (relay.ts), which
  // knows the call each belongs to; the SDK's own driver would reach the handlers with nothing that
  // names the call. Any other request answered with input_required fails, naming the result type.
  const rest = { ...given, inputRequired: { autoFulfill: false } };
  if (plan === 'legacy') return new Client(clientInfo, rest);
  return new Client(clientInfo, {
    ...rest,
    versionNegotiation: {
      mode: 'auto',
      // On stdio, silence ends the probe: at most half the start-up budget, so initialize has the rest.
      probe: {
        timeoutMs: stdio ? Math.min(STDIO_PROBE_TIMEOUT_MS, Math.ceil(startupTimeoutMs / 2)) : startupTimeoutMs,
      },
    },
  });
}

/**
 * Connects within `timeoutMs` in all: the probe and initialize each take the SDK's per-request
 * timeout, and together must not exceed the backend's `startupTimeoutMs`. On failure the
 * transport is closed too: until the probe is over the client does not own it yet, so closing the
 * client alone would leave a stdio child running.
 */
export async function connectWithin(
  client: Client,
  transport: Transport,
  timeoutMs: number,
  options: Pick<ConnectOptions, 'prior'> = {},
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SdkError(SdkErrorCode.RequestTimeout, `did not connect within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  // Called before any await: a stdio transport spawns its child synchronously inside connect().
  const connecting = client.connect(transport, { timeout: timeoutMs, ...options });
  connecting.catch(() => {});
  try {
    await Promise.race([connecting, deadline]);
  } catch (error) {
    await client.close().catch(() => {});
    await transport.close().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a stdio connect failed in the probe itself, which on a local pipe means the child ended
 * around it: a 2025 server built on an SDK that exits on any request before initialize (the probe
 * sees the pipe close), or one that ended before the probe was even written (a write to a closed
 * pipe). The spec's stdio rule falls back to initialize on any such failure; started again, the
 * server gets initialize at once, and one that was crashing anyway reports its exit as usual.
 */
export function endedDuringProbe(error: unknown): boolean {
  return error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed;
}

/**
 * What the gateway remembers of one backend's era between connections. The spec suggests caching
 * the determination per server (basic/lifecycle, "Backward compatibility"): a 2025 verdict that
 * led to a working connection skips the probe next time (a restart, a new HTTP session); a
 * failed start, or the owner's restart, forgets it, so a server upgraded to 2026-07-28 is found
 * again. A 2026-07-28 server answers the probe at once, so its verdict is not kept.
 */
export class EraMemory {
  #legacy = false;

  /** The plan for the next connect, and the `prior` verdict to pass to connect(). */
  next(): { plan: EraPlan; prior?: { kind: 'legacy' } } {
    return this.#legacy ? { plan: 'legacy', prior: { kind: 'legacy' } } : { plan: 'negotiate' };
  }

  /** A connect succeeded with this protocol version. */
  connected(protocolVersion: string | undefined): void {
    this.#legacy = protocolVersion !== undefined && protocolVersion < MODERN_REVISION;
  }

  /** The server is a 2025 one (it ended on the probe): initialize straight away next time. */
  markLegacy(): void {
    this.#legacy = true;
  }

  forget(): void {
    this.#legacy = false;
  }
}

/** The list_changed kinds a 2026-07-28 server declares, as a `subscriptions/listen` filter. */
export function listChangedFilter(client: Client): Record<string, boolean> {
  const caps = client.getServerCapabilities() ?? {};
  return {
    ...(caps.tools?.listChanged && { toolsListChanged: true }),
    ...(caps.prompts?.listChanged && { promptsListChanged: true }),
    ...(caps.resources?.listChanged && { resourcesListChanged: true }),
  };
}

/**
 * Opens the stream a 2026-07-28 server sends its list_changed notifications on (there is no GET
 * stream and no session: `subscriptions/listen`, basic/utilities "Subscriptions"). The SDK hands
 * what arrives on it to the client's notification handlers, as on a 2025 connection. Undefined
 * on a 2025 connection, or when the server declares no list that changes.
 */
export async function listenForChanges(client: Client, timeoutMs: number): Promise<McpSubscription | undefined> {
  if (client.getProtocolEra() !== 'modern') return undefined;
  const filter = listChangedFilter(client);
  if (Object.keys(filter).length === 0) return undefined;
  return client.listen(filter, { timeout: timeoutMs });
}

/** Wait before opening a dropped subscriptions/listen stream again. */
export const RELISTEN_DELAY_MS = 1_000;

export interface KeepListeningOptions {
  timeoutMs: number;
  /** Whether the client is still the backend's connection; a replaced or closed one stops. */
  current: () => boolean;
  /** The stream is open again: what changed while it was down must be read again. */
  reopened: () => void;
  failed: (error: unknown) => void;
}

/**
 * Keeps the list_changed stream of a 2026-07-28 connection open: the server may drop it (it
 * restarted; HTTP has no session to lose, so nothing else notices) and the SDK does not listen
 * again by itself. Reopened after `RELISTEN_DELAY_MS` while the client is current.
 */
export async function keepListening(client: Client, options: KeepListeningOptions): Promise<void> {
  const subscription = await listenForChanges(client, options.timeoutMs);
  if (!subscription) return;
  const reopen = (): void => {
    const timer = setTimeout(() => {
      if (!options.current()) return;
      listenForChanges(client, options.timeoutMs).then(
        (next) => {
          if (!next) return;
          options.reopened();
          watch(next);
        },
        (error: unknown) => {
          options.failed(error);
          reopen();
        },
      );
    }, RELISTEN_DELAY_MS);
    timer.unref();
  };
  const watch = (current: McpSubscription): void => {
    void current.closed.then((how) => {
      if (how !== 'local' && options.current()) reopen();
    });
  };
  watch(subscription);
}

/**
 * The resources the gateway's clients subscribed to on a 2026-07-28 backend. That revision has no
 * `resources/subscribe`: a client names the URIs on a `subscriptions/listen` stream
 * (`resourceSubscriptions`) and gets `notifications/resources/updated` on it. So a 2025 client's
 * subscribe or unsubscribe, relayed to such a backend, replaces the one stream with one naming
 * the new set; a new connection opens it again (`resume`).
 */
export class ResourceSubscriptions {
  readonly #uris = new Set<string>();
  #stream: McpSubscription | undefined;
  #client: Client | undefined;

  /** Whether `method` is one this class answers for a 2026-07-28 connection. */
  static handles(client: Client, method: string): boolean {
    return (
      client.getProtocolEra() === 'modern' && (method === 'resources/subscribe' || method === 'resources/unsubscribe')
    );
  }

  /** Applies a relayed resources/subscribe or resources/unsubscribe; answers as those methods do (`{}`). */
  async apply(client: Client, method: string, uri: string, timeoutMs: number): Promise<Record<string, unknown>> {
    if (method === 'resources/subscribe') this.#uris.add(uri);
    else this.#uris.delete(uri);
    await this.resume(client, timeoutMs);
    return {};
  }

  /** Opens the stream naming the current set on `client` (a new connection), closing the previous one. */
  async resume(client: Client, timeoutMs: number): Promise<void> {
    const previous = this.#client === client ? this.#stream : undefined;
    this.#client = client;
    this.#stream = undefined;
    if (this.#uris.size > 0 && client.getProtocolEra() === 'modern') {
      this.#stream = await client.listen({ resourceSubscriptions: [...this.#uris] }, { timeout: timeoutMs });
    }
    // Closed after the new one is open, so no update falls between the two.
    await previous?.close();
  }
}

/** The Tasks extension of 2026-07-28 (SEP-2663): a tools/call may be answered with a task handle. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/**
 * Which kind of tasks a backend runs tools/call as, from what it declared: `modern` for a
 * 2026-07-28 server offering the Tasks extension (its handles come back as `resultType: "task"`
 * and are polled with tasks/get, tasks/update, tasks/cancel), `legacy` for a 2025-11-25 server
 * declaring `tasks.requests.tools.call` (task-augmented calls, tasks/get, tasks/result,
 * tasks/list, tasks/cancel). Undefined: the backend runs every call inline.
 */
export type TaskEra = 'modern' | 'legacy';

export function taskEraOf(client: Client): TaskEra | undefined {
  const caps = client.getServerCapabilities();
  if (client.getProtocolEra() === 'modern') {
    const extension = (caps?.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION];
    // Only a client that can take the handles (acceptTaskHandles) may be asked for them.
    return typeof extension === 'object' && extension !== null && takesHandles.has(client) ? 'modern' : undefined;
  }
  const tasks = caps?.tasks as { requests?: { tools?: { call?: unknown } } } | undefined;
  return tasks?.requests?.tools?.call !== undefined ? 'legacy' : undefined;
}

interface WireCodec {
  era: string;
  decodeResult(method: string, raw: unknown): unknown;
}

const taskAwareCodecs = new WeakMap<WireCodec, WireCodec>();
const takesHandles = new WeakSet<Client>();

/**
 * Lets a 2026-07-28 tools/call result that is a task handle (`resultType: "task"`) reach the
 * gateway. SDK 2.4's client decodes every result by its `resultType` before the caller sees it and
 * refuses the ones it does not know (UnsupportedResultType), the Tasks extension's included: the
 * ext-tasks package works around it with a raw dispatch of its own. The narrowest equivalent here
 * is this client's codec for tools/call only, wrapped so a handle decodes as a complete result
 * that keeps its `resultType` (the relay then recognises it). Everything else decodes as before.
 * The gateway declares the extension to a backend only for a caller that declared it, so a handle
 * never arrives for a call that cannot take one (the relay refuses one that does). False when
 * the SDK lacks the seam this relies on (a private method of SDK 2.4's Protocol).
 */
export function acceptTaskHandles(client: Client): boolean {
  const internals = client as unknown as { _resolveOutboundCodec?: (method: string) => WireCodec };
  // An SDK without this seam still connects and serves everything else; only handles fail, as before.
  if (typeof internals._resolveOutboundCodec !== 'function') return false;
  const resolve = internals._resolveOutboundCodec.bind(client);
  internals._resolveOutboundCodec = (method) => {
    const codec = resolve(method);
    if (method !== 'tools/call' || codec.era !== MODERN_REVISION) return codec;
    let wrapped = taskAwareCodecs.get(codec);
    if (!wrapped) {
      wrapped = Object.create(codec) as WireCodec;
      wrapped.decodeResult = (m, raw) =>
        typeof raw === 'object' && raw !== null && (raw as { resultType?: unknown }).resultType === 'task'
          ? { kind: 'complete', result: raw }
          : codec.decodeResult(m, raw);
      taskAwareCodecs.set(codec, wrapped);
    }
    return wrapped;
  };
  takesHandles.add(client);
  return true;
}
