import { EventEmitter } from 'node:events';
import type { GatewayConfig, NamedBackendConfig } from '../config/schema.js';
import { Backend, type SharedBackendOptions } from './backend.js';
import type { BackendStatus } from './types.js';

export interface BackendPoolOptions extends SharedBackendOptions {
  config: GatewayConfig;
}

export interface ReconcileResult {
  added: string[];
  removed: string[];
  /** Replaced: stopped and started again with the new configuration. */
  changed: string[];
  /** Only tool overrides changed: applied in place, the backend kept running. */
  retuned: string[];
}

/** Whether two configurations of a backend differ at most in their per-tool overrides. */
function sameExceptTools(a: NamedBackendConfig, b: NamedBackendConfig): boolean {
  return JSON.stringify({ ...a, tools: {} }) === JSON.stringify({ ...b, tools: {} });
}

/** All configured backends. Starting never waits for any of them: each connects on its own. */
export class BackendPool extends EventEmitter<{ state: [BackendStatus]; added: [Backend]; removed: [Backend] }> {
  #backends: Backend[];
  readonly #byName: Map<string, Backend>;
  readonly #options: BackendPoolOptions;

  constructor(options: BackendPoolOptions) {
    super();
    this.#options = options;
    this.#backends = options.config.backends.map((config) => this.#create(config));
    this.#byName = new Map(this.#backends.map((backend) => [backend.name, backend]));
  }

  get backends(): readonly Backend[] {
    return this.#backends;
  }

  #create(config: NamedBackendConfig): Backend {
    const { config: gateway, ...shared } = this.#options;
    const backend = new Backend({ ...shared, config, settings: gateway.gateway });
    backend.on('state', (status) => this.emit('state', status));
    return backend;
  }

  /**
   * Brings the running pool in line with a new list of backends: unchanged ones keep running
   * (their sessions and children untouched), changed ones are replaced, new ones start, removed
   * ones stop. Returns the names that changed.
   */
  async reconcile(
    configs: readonly NamedBackendConfig[],
    /** Replaced even if their config looks the same: a secret they refer to has a new value. */
    replace: ReadonlySet<string> = new Set(),
  ): Promise<ReconcileResult> {
    const wanted = new Map(configs.map((config) => [config.name, config]));
    const result: ReconcileResult = { added: [], removed: [], changed: [], retuned: [] };
    const stopping: Promise<void>[] = [];
    for (const backend of [...this.#backends]) {
      const next = wanted.get(backend.name);
      const forced = replace.has(backend.name);
      if (next && !forced && JSON.stringify(next) === JSON.stringify(backend.config)) continue;
      if (next && !forced && sameExceptTools(next, backend.config)) {
        backend.setToolOverrides(next.tools);
        result.retuned.push(backend.name);
        continue;
      }
      (next ? result.changed : result.removed).push(backend.name);
      this.#backends = this.#backends.filter((b) => b !== backend);
      this.#byName.delete(backend.name);
      stopping.push(backend.stop());
      this.emit('removed', backend);
    }
    await Promise.allSettled(stopping);
    for (const config of configs) {
      if (this.#byName.has(config.name)) continue;
      if (!result.changed.includes(config.name)) result.added.push(config.name);
      const backend = this.#create(config);
      this.#backends.push(backend);
      this.#byName.set(backend.name, backend);
      this.emit('added', backend);
      backend.start();
    }
    // Keep the configured order: it decides naming priority and listing order.
    const order = configs.map((c) => c.name);
    this.#backends.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return result;
  }

  get(name: string): Backend | undefined {
    return this.#byName.get(name);
  }

  /**
   * Starts backends one per event-loop turn: spawning a child blocks the loop for a moment, and
   * interleaving lets the endpoint answer clients (builtins, whoami) while a large pool comes up.
   */
  start(): void {
    const queue = [...this.backends];
    const next = () => {
      const backend = queue.shift();
      if (!backend) return;
      backend.start();
      if (queue.length > 0) setImmediate(next);
    };
    next();
  }

  statuses(): BackendStatus[] {
    return this.backends.map((backend) => backend.status());
  }

  /** Stops every backend in parallel; stdio children get stdin EOF, then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.backends.map((backend) => backend.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
