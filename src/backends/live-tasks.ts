import { CLIENT_CAPABILITIES_META_KEY, type Client, type McpSubscription } from '@modelcontextprotocol/client';
import { TASKS_EXTENSION } from './protocol-era.js';

/**
 * The tasks one backend connection (the shared one, or a client's own instance) created for the
 * gateway and that may still be running there, as far as the gateway saw: from the handles its
 * tools/call results carried, and every later word on them (a tasks/get or tasks/cancel answer, a
 * status notification). Two things depend on it: a client's idle `per-client` instance is kept
 * while it holds a live task of that client (backend.ts), and a 2026-07-28 backend is asked for
 * the status notifications of exactly these tasks (`TaskListen`).
 *
 * A task is live until it is seen in a terminal status or its TTL passes (the backend may drop it
 * then: MCP 2025-11-25 basic/utilities/tasks "TTL and Resource Management"; ext-tasks likewise),
 * the TTL bounded as the gateway's own record of it is (mcp/task-relay.ts, the same limits).
 */

/** The longest a task is counted live, whatever TTL the backend gave (as mcp/task-relay.ts keeps it). */
export const MAX_LIVE_TASK_MS = 24 * 3_600_000;
/** How long a task is counted live when the backend gave no TTL or an unlimited one. */
export const NO_TTL_LIVE_MS = 3_600_000;
/** Tasks tracked per connection; past it the oldest is forgotten (the gateway keeps at most 10000 in all). */
export const MAX_LIVE_TASKS = 10_000;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a backend said of one task: its id, status and TTL, in either era's shape. */
export interface TaskWord {
  taskId: string;
  status: unknown;
  /** As given: 2026-07-28 `ttlMs`, 2025-11-25 `ttl` (null: unlimited; absent: unchanged). */
  ttl: unknown;
}

/**
 * The task a tools/call result hands back, in the era of the connection: 2026-07-28 a
 * `resultType: "task"` result (ext-tasks CreateTaskResult), 2025-11-25 a CreateTaskResult's `task`.
 */
export function createdTask(modern: boolean, result: Json): TaskWord | undefined {
  if (modern) {
    if (result.resultType !== 'task' || typeof result.taskId !== 'string') return undefined;
    return { taskId: result.taskId, status: result.status, ttl: result.ttlMs };
  }
  return isObject(result.task) ? taskWord(false, result.task) : undefined;
}

/** A task's state as a tasks/get or tasks/cancel answer or a status notification carries it. */
export function taskWord(modern: boolean, task: Json): TaskWord | undefined {
  if (typeof task.taskId !== 'string') return undefined;
  return { taskId: task.taskId, status: task.status, ttl: modern ? task.ttlMs : task.ttl };
}

export class LiveTasks {
  readonly #now: () => number;
  /** Live tasks by the backend's id, with when they stop counting; insertion order: the oldest first. */
  readonly #live = new Map<string, number>();
  /** Called when the set of live task ids changed (a 2026-07-28 listen stream names them). */
  onchange: (() => void) | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A task the backend created, or news of one: recorded, renewed, or dropped once terminal. */
  saw(word: TaskWord, created = false): void {
    const known = this.#live.has(word.taskId);
    if (!known && !created) return;
    if (typeof word.status === 'string' && TERMINAL.has(word.status)) {
      if (known) {
        this.#live.delete(word.taskId);
        this.onchange?.();
      }
      return;
    }
    if (known && word.ttl === undefined) return;
    const ttl =
      typeof word.ttl === 'number' && Number.isFinite(word.ttl) && word.ttl >= 0
        ? Math.min(word.ttl, MAX_LIVE_TASK_MS)
        : NO_TTL_LIVE_MS;
    this.#live.set(word.taskId, this.#now() + ttl);
    if (known) return;
    if (this.#live.size > MAX_LIVE_TASKS) this.#live.delete(this.#live.keys().next().value!);
    this.onchange?.();
  }

  /** The ids of the tasks still live, expired ones dropped. */
  ids(): string[] {
    this.#sweep();
    return [...this.#live.keys()];
  }

  /** When the last live task stops counting (clock time); undefined when none is live. */
  liveUntil(): number | undefined {
    this.#sweep();
    let until: number | undefined;
    for (const expiry of this.#live.values()) if (until === undefined || expiry > until) until = expiry;
    return until;
  }

  /** The connection is gone: its tasks went with it (a restarted server does not know them). */
  clear(): void {
    if (this.#live.size === 0) return;
    this.#live.clear();
    this.onchange?.();
  }

  #sweep(): void {
    const now = this.#now();
    let dropped = false;
    for (const [id, expiry] of this.#live) {
      if (expiry > now) continue;
      this.#live.delete(id);
      dropped = true;
    }
    if (dropped) this.onchange?.();
  }
}

/**
 * The ext-tasks status notifications of a 2026-07-28 backend: that revision has no session to
 * push them on, so a client names the tasks it wants to hear about on a `subscriptions/listen`
 * stream (`notifications.taskIds`; ext-tasks "Task Status Notifications") and gets
 * `notifications/tasks` on it. One stream per connection names the live tasks; a change of the set
 * replaces it (the new one opened before the old one closes, as ResourceSubscriptions does), and a
 * new connection opens it again (`resume`). A server that does not honour the filter sends none,
 * and clients poll as before.
 */
export class TaskListen {
  readonly #tasks: LiveTasks;
  readonly #timeoutMs: () => number;
  readonly #failed: (error: unknown) => void;
  #client: Client | undefined;
  #stream: McpSubscription | undefined;
  #named = '';
  /** One reopening at a time; a change meanwhile is picked up when it ends. */
  #busy: Promise<void> | undefined;
  #again = false;

  constructor(tasks: LiveTasks, options: { timeoutMs: () => number; failed: (error: unknown) => void }) {
    this.#tasks = tasks;
    this.#timeoutMs = options.timeoutMs;
    this.#failed = options.failed;
  }

  /** The connection to listen on (a new one after a reconnect), or none (a 2025 one, or closed). */
  resume(client: Client | undefined): void {
    if (client !== this.#client) {
      void this.#stream?.close().catch(() => {});
      this.#stream = undefined;
      this.#named = '';
    }
    this.#client = client?.getProtocolEra() === 'modern' ? client : undefined;
    this.changed();
  }

  /** The set of live tasks changed: the stream is opened again naming it. */
  changed(): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = this.#reopen().finally(() => {
      this.#busy = undefined;
      if (this.#again) {
        this.#again = false;
        this.changed();
      }
    });
  }

  async #reopen(): Promise<void> {
    const client = this.#client;
    const ids = client ? this.#tasks.ids() : [];
    const named = ids.join('\u0000');
    if (named === this.#named) return;
    const previous = this.#stream;
    this.#stream = undefined;
    this.#named = named;
    try {
      if (client && ids.length > 0) {
        const stream = await listenDeclaringTasks(client, ids, this.#timeoutMs());
        // Replaced by another connection meanwhile: this one's stream is of no use.
        if (this.#client === client) this.#stream = stream;
        else await stream.close();
      }
    } catch (error) {
      this.#named = '';
      this.#failed(error);
    } finally {
      await previous?.close().catch(() => {});
    }
  }

  /** Settles once the stream names the live tasks (or failed to), or after `waitMs`. */
  async settled(waitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    const done = (async () => {
      while (this.#busy) await this.#busy;
    })();
    await Promise.race([done, late]);
    clearTimeout(timer);
  }

  close(): void {
    this.resume(undefined);
  }
}

/**
 * `client.listen()` naming tasks, with the Tasks extension declared in the request's capabilities
 * as ext-tasks requires of such a listen (-32021 otherwise). SDK 2.4 builds a listen request's
 * `_meta` from the capabilities the client was made with, which must not declare the extension
 * (a backend could then answer any call with a task, backend.ts `withTasksDeclared`), so the
 * envelope is widened for this one request: listen() builds it synchronously, before its first
 * await. The seam is a private method of SDK 2.4's Client; without it the request goes as it is.
 */
function listenDeclaringTasks(client: Client, taskIds: string[], timeoutMs: number): Promise<McpSubscription> {
  type Envelope = Record<string, unknown> | undefined;
  const internals = client as unknown as { _outboundMetaEnvelope?: () => Envelope };
  const envelope = internals._outboundMetaEnvelope;
  if (typeof envelope !== 'function') return client.listen({ taskIds } as never, { timeout: timeoutMs });
  const own = Object.hasOwn(client, '_outboundMetaEnvelope');
  internals._outboundMetaEnvelope = function (this: Client) {
    const meta = envelope.call(this);
    const capabilities = (meta?.[CLIENT_CAPABILITIES_META_KEY] ?? {}) as { extensions?: Record<string, unknown> };
    const extensions = { ...capabilities.extensions, [TASKS_EXTENSION]: {} };
    return { ...meta, [CLIENT_CAPABILITIES_META_KEY]: { ...capabilities, extensions } };
  };
  try {
    return client.listen({ taskIds } as never, { timeout: timeoutMs });
  } finally {
    if (own) internals._outboundMetaEnvelope = envelope;
    else delete internals._outboundMetaEnvelope;
  }
}
