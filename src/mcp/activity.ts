import { EventEmitter } from 'node:events';
import type { ActivityEntry } from './types.js';
import { redact } from '../shared/redact.js';
import { RingBuffer } from '../shared/ring-buffer.js';

export interface ActivityOptions {
  /** How many recent calls are kept in memory. */
  capacity?: number;
  /** Record argument values (redacted, truncated) instead of argument names only. */
  recordArguments?: boolean;
  now?: () => number;
}

export interface ActivityFilter {
  /** Only entries with a greater id. */
  after?: number;
  clientId?: string;
  /** Substring of the tool name. */
  tool?: string;
  outcome?: ActivityEntry['outcome'];
  limit?: number;
}

/** The largest argument record kept per call: activity is for seeing what happened, not an archive. */
const MAX_ARGUMENT_CHARS = 2_000;

export type ActivityStart = Pick<ActivityEntry, 'clientId' | 'tool'> &
  Partial<Pick<ActivityEntry, 'clientName' | 'backend'>> & { args?: Record<string, unknown> | undefined };

/**
 * Recent tool calls in a ring buffer, for the console's Activity page. In memory only: a call log
 * on disk would hold whatever clients pass as arguments. Arguments are reduced to their names
 * unless the owner asks for values, which are then passed through the log redactor.
 */
export class ActivityLog extends EventEmitter<{ entry: [ActivityEntry] }> {
  readonly #entries: RingBuffer<ActivityEntry>;
  readonly #recordArguments: boolean;
  readonly #now: () => number;
  /** Starts at the clock so ids keep increasing across gateway restarts (the console polls `after`). */
  #nextId: number;

  constructor(options: ActivityOptions = {}) {
    super();
    this.#entries = new RingBuffer(options.capacity ?? 1000);
    this.#recordArguments = options.recordArguments ?? false;
    this.#now = options.now ?? Date.now;
    this.#nextId = this.#now();
  }

  /** Starts timing a call; the returned function records it with its outcome. */
  start(call: ActivityStart): (outcome: ActivityEntry['outcome'], error?: string) => void {
    const at = this.#now();
    const started = performance.now();
    return (outcome, error) => {
      const entry: ActivityEntry = {
        id: this.#nextId++,
        at,
        clientId: call.clientId,
        tool: call.tool,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        outcome,
        argumentKeys: call.args ? Object.keys(call.args) : [],
      };
      if (call.clientName !== undefined) entry.clientName = call.clientName;
      if (call.backend !== undefined) entry.backend = call.backend;
      if (error !== undefined) entry.error = error.slice(0, 500);
      if (this.#recordArguments && call.args) entry.arguments = truncated(redact(call.args));
      this.#entries.push(entry);
      this.emit('entry', entry);
    };
  }

  /** Newest first. */
  list(filter: ActivityFilter = {}): ActivityEntry[] {
    const limit = filter.limit ?? 200;
    const out: ActivityEntry[] = [];
    const all = this.#entries.toArray();
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = all[i]!;
      if (filter.after !== undefined && entry.id <= filter.after) break;
      if (filter.clientId !== undefined && entry.clientId !== filter.clientId) continue;
      if (filter.outcome !== undefined && entry.outcome !== filter.outcome) continue;
      if (filter.tool !== undefined && !entry.tool.includes(filter.tool)) continue;
      out.push(entry);
    }
    return out;
  }
}

function truncated(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text.length <= MAX_ARGUMENT_CHARS ? value : `${text.slice(0, MAX_ARGUMENT_CHARS)}…`;
}
