import { randomUUID } from 'node:crypto';
import type { TaskEra } from '../backends/protocol-era.js';
import type { Access } from '../federation/catalog.js';

/**
 * The tasks a backend created for the gateway's clients, under ids of the gateway's own.
 *
 * The gateway does not run tasks: a task handle a backend returns for a tools/call goes back to
 * the caller, and the caller's tasks/* requests go to that backend. Backends see one client, the
 * gateway, so their task ids are neither unique across backends nor bound to a caller. Each
 * handle therefore gets a random gateway id here, mapped to the backend, the backend's id and the
 * caller (subject and client), and only that caller can use it: anyone else, like an unknown or
 * expired id, gets "unknown task" (MCP 2025-11-25 basic/utilities/tasks, "Security
 * Considerations": task ids bound to the authorization context; ext-tasks likewise).
 *
 * Bounded: an entry lives as long as the backend said the task does (its TTL, at most
 * MAX_TASK_TTL_MS; NO_TTL_MS when it gave none or "unlimited"), and a caller holds at most
 * MAX_TASKS_PER_CALLER, the whole gateway MAX_TASKS; past either the oldest entry is dropped.
 */

/** The longest an entry is kept, whatever TTL the backend gave. */
export const MAX_TASK_TTL_MS = 24 * 3_600_000;
/** How long an entry is kept when the backend gave no TTL or an unlimited one. */
export const NO_TTL_MS = 3_600_000;
export const MAX_TASKS_PER_CALLER = 1_000;
export const MAX_TASKS = 10_000;

export interface TaskEntry {
  /** The id the caller knows. */
  readonly id: string;
  /** The caller: subject and client. */
  readonly owner: string;
  readonly era: TaskEra;
  readonly backend: string;
  /** What the call needed of the grant, checked again at every tasks/* request. */
  readonly backendId: string;
  readonly access: Access;
  readonly backendTaskId: string;
  /** The caller's client id, for a `per-client` backend (the task lives in its instance). */
  readonly client: string;
  /**
   * Which of the backend's instances holds the task: the client id for a `per-client` backend,
   * else empty (the shared instance).
   */
  readonly instance: string;
  expiresAt: number;
}

export interface TaskRegistryOptions {
  now: () => number;
  maxPerCaller?: number;
  max?: number;
}

export class TaskRegistry {
  readonly #now: () => number;
  readonly #maxPerCaller: number;
  readonly #max: number;
  /** By gateway id, in creation order (a Map keeps insertion order): the first is the oldest. */
  readonly #entries = new Map<string, TaskEntry>();
  readonly #byOwner = new Map<string, Set<string>>();
  /** Gateway id by backend, instance and the backend's id (`backendKey`). */
  readonly #byBackendId = new Map<string, string>();

  constructor(options: TaskRegistryOptions) {
    this.#now = options.now;
    this.#maxPerCaller = options.maxPerCaller ?? MAX_TASKS_PER_CALLER;
    this.#max = options.max ?? MAX_TASKS;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records a handle the backend returned; `ttlMs` as the backend gave it. */
  add(entry: Omit<TaskEntry, 'id' | 'expiresAt'>, ttlMs: unknown): TaskEntry {
    this.sweep();
    const owned = this.#byOwner.get(entry.owner);
    if (owned && owned.size >= this.#maxPerCaller) this.delete(owned.values().next().value!);
    if (this.#entries.size >= this.#max) this.delete(this.#entries.keys().next().value!);
    // A backend that gives an id it gave before has lost the earlier task (a restarted server that
    // numbers its tasks afresh): the earlier entry would now reach the new task, someone else's.
    const reused = this.#byBackendId.get(backendKey(entry));
    if (reused !== undefined) this.delete(reused);
    const added: TaskEntry = { ...entry, id: randomUUID(), expiresAt: this.#expiry(ttlMs) };
    this.#entries.set(added.id, added);
    this.#byBackendId.set(backendKey(added), added.id);
    if (owned) owned.add(added.id);
    else this.#byOwner.set(entry.owner, new Set([added.id]));
    return added;
  }

  /** The caller's entry with this id; undefined when unknown, expired or another caller's. */
  find(owner: string, id: unknown): TaskEntry | undefined {
    if (typeof id !== 'string') return undefined;
    const entry = this.#entries.get(id);
    if (!entry || entry.owner !== owner) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.delete(id);
      return undefined;
    }
    return entry;
  }

  /**
   * The entry of a backend's task, by the backend's own id and the instance that runs it (a status
   * notification names only these); undefined when unknown or expired.
   */
  byBackend(backend: string, instance: string, backendTaskId: unknown): TaskEntry | undefined {
    if (typeof backendTaskId !== 'string') return undefined;
    const id = this.#byBackendId.get(backendKey({ backend, instance, backendTaskId }));
    const entry = id === undefined ? undefined : this.#entries.get(id);
    return entry === undefined ? undefined : this.find(entry.owner, entry.id);
  }

  /** The backend reported the task again: it may have changed its TTL. */
  renew(entry: TaskEntry, ttlMs: unknown): void {
    if (ttlMs !== undefined) entry.expiresAt = this.#expiry(ttlMs);
  }

  /** The caller's live entries, oldest first. */
  list(owner: string): TaskEntry[] {
    const now = this.#now();
    return [...(this.#byOwner.get(owner) ?? [])]
      .map((id) => this.#entries.get(id)!)
      .filter((entry) => entry.expiresAt > now);
  }

  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    if (this.#byBackendId.get(backendKey(entry)) === id) this.#byBackendId.delete(backendKey(entry));
    const owned = this.#byOwner.get(entry.owner);
    owned?.delete(id);
    if (owned?.size === 0) this.#byOwner.delete(entry.owner);
  }

  /** Drops expired entries. */
  sweep(): void {
    const now = this.#now();
    for (const entry of this.#entries.values()) if (entry.expiresAt <= now) this.delete(entry.id);
  }

  #expiry(ttlMs: unknown): number {
    const ttl =
      typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs >= 0 ? Math.min(ttlMs, MAX_TASK_TTL_MS) : NO_TTL_MS;
    return this.#now() + ttl;
  }
}

const backendKey = (entry: Pick<TaskEntry, 'backend' | 'instance' | 'backendTaskId'>): string =>
  `${entry.backend}\u0000${entry.instance}\u0000${entry.backendTaskId}`;

/** The key a caller's tasks are filed under. */
export const taskOwner = (identity: { subject: string; clientId: string }): string =>
  `${identity.subject}\u0000${identity.clientId}`;

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The backend's task id in a tools/call result, when the result is a task handle of its era. */
export function handleOf(era: TaskEra, result: Json): { taskId: string; ttlMs: unknown } | undefined {
  if (era === 'modern') {
    if (result.resultType !== 'task' || typeof result.taskId !== 'string') return undefined;
    return { taskId: result.taskId, ttlMs: result.ttlMs };
  }
  const task = result.task;
  if (!isObject(task) || typeof task.taskId !== 'string') return undefined;
  return { taskId: task.taskId, ttlMs: task.ttl };
}

/**
 * A backend's answer about a task, as the caller sees it: the backend's id replaced by the
 * gateway's wherever a task names itself (the task, a 2025 CreateTaskResult's `task`, the
 * related-task `_meta` of a 2025 tasks/result payload).
 */
export function withGatewayId(result: Json, entry: TaskEntry): Json {
  let out: Json = result;
  if (out.taskId === entry.backendTaskId) out = { ...out, taskId: entry.id };
  if (isObject(out.task) && out.task.taskId === entry.backendTaskId)
    out = { ...out, task: { ...out.task, taskId: entry.id } };
  const meta = out._meta;
  if (isObject(meta) && isObject(meta[RELATED_TASK])) {
    out = { ...out, _meta: { ...meta, [RELATED_TASK]: { ...meta[RELATED_TASK], taskId: entry.id } } };
  }
  return out;
}

/** The TTL a backend reported for a task (2026 `ttlMs`, 2025 `ttl`). */
export function ttlOf(era: TaskEra, task: Json): unknown {
  return era === 'modern' ? task.ttlMs : task.ttl;
}
