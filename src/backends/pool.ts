import { EventEmitter } from 'node:events';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { Backend } from './backend.js';
import type { BackendStatus } from './types.js';

export interface BackendPoolOptions {
  config: GatewayConfig;
  logger: Logger;
  clock: Clock;
  clientInfo: { name: string; version: string };
  random?: () => number;
  parentEnv?: NodeJS.ProcessEnv;
}

/** All configured backends. Starting never waits for any of them: each connects on its own. */
export class BackendPool extends EventEmitter<{ state: [BackendStatus] }> {
  readonly backends: readonly Backend[];
  readonly #byName: Map<string, Backend>;

  constructor(options: BackendPoolOptions) {
    super();
    this.backends = options.config.backends.map((config) => {
      const backend = new Backend({
        config,
        settings: options.config.gateway,
        logger: options.logger,
        clock: options.clock,
        clientInfo: options.clientInfo,
        ...(options.random ? { random: options.random } : {}),
        ...(options.parentEnv ? { parentEnv: options.parentEnv } : {}),
      });
      backend.on('state', (status) => this.emit('state', status));
      return backend;
    });
    this.#byName = new Map(this.backends.map((backend) => [backend.name, backend]));
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
