import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TunnelStatus } from './types.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../shared/errors.js';
import { createHttpServer, type ListenerLimits } from '../shared/http-server.js';
import type { Logger } from '../shared/logger.js';
import type { TunnelProvider, TunnelProviderStatus } from './provider.js';

export interface TunnelControllerOptions {
  provider: TunnelProvider;
  /** Serves what arrives through the tunnel (a restricted surface, see src/http/tunnel-surface.ts). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Loopback address of the dedicated listener. Default 127.0.0.1. */
  host?: string;
  /** Port of the dedicated listener; 0 picks a free one. Default 0. */
  port?: number;
  /** Timeouts and connection cap of the dedicated listener, as on the local one. */
  limits: ListenerLimits;
  logger: Logger;
  clock: Clock;
}

export interface TunnelControllerEvents {
  state: [TunnelStatus];
}

/**
 * One public tunnel: a dedicated loopback listener that only tunnel traffic reaches, and the
 * provider that makes it public. Traffic from the internet never shares a listener with the
 * console, so a routing slip cannot expose it.
 */
export class TunnelController {
  readonly events = new EventEmitter<TunnelControllerEvents>();
  readonly #options: TunnelControllerOptions;
  #provider: TunnelProvider;
  /** A provider chosen while the tunnel ran: it takes over once the tunnel stops. */
  #next: TunnelProvider | undefined;
  #server: Server | undefined;
  #starting: Promise<TunnelStatus> | undefined;
  #stopping: Promise<TunnelStatus> | undefined;

  constructor(options: TunnelControllerOptions) {
    this.#options = options;
    this.#provider = options.provider;
    this.#provider.events.on('state', this.#onState);
  }

  readonly #onState = (status: TunnelProviderStatus) => this.events.emit('state', this.#view(status));

  /**
   * Switches to another provider (the owner changed the tunnel settings): at once when the tunnel
   * is not up, else when it next stops, so a running tunnel is never cut by a settings change.
   */
  useProvider(provider: TunnelProvider): void {
    const state = this.#provider.status().state;
    if (this.#starting || state === 'running' || state === 'starting') {
      this.#next = provider;
      return;
    }
    this.#swap(provider);
  }

  #swap(provider: TunnelProvider): void {
    this.#provider.events.off('state', this.#onState);
    this.#provider = provider;
    this.#next = undefined;
    provider.events.on('state', this.#onState);
    this.events.emit('state', this.status());
  }

  status(): TunnelStatus {
    return this.#view(this.#provider.status());
  }

  /** The public origin while the tunnel is up; requests for any other name are refused. */
  publicOrigin(): string | undefined {
    const status = this.#provider.status();
    return status.state === 'running' ? status.publicUrl : undefined;
  }

  /** Starts the tunnel (once; a second call while starting or running returns the same). Never throws: see `state`. */
  async start(): Promise<TunnelStatus> {
    await this.#stopping;
    const state = this.#provider.status().state;
    if (state === 'running' || (state === 'starting' && !this.#starting)) return this.status();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async stop(): Promise<TunnelStatus> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #start(): Promise<TunnelStatus> {
    const log = this.#options.logger;
    try {
      this.#server ??= await this.#listen();
      const { port } = this.#server.address() as AddressInfo;
      const url = await this.#provider.start(`http://${this.#options.host ?? '127.0.0.1'}:${port}`);
      log.info('tunnel running', { publicUrl: url });
    } catch (error) {
      log.warn('tunnel failed to start', { error: describeError(error) });
      await this.#closeServer();
    }
    return this.status();
  }

  async #stop(): Promise<TunnelStatus> {
    // The provider first: a start in progress is cut short rather than waited for.
    await this.#provider.stop();
    await this.#starting;
    await this.#closeServer();
    if (this.#next) this.#swap(this.#next);
    return this.status();
  }

  #listen(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createHttpServer(this.#options.handler, this.#options.limits, this.#options.logger);
      server.once('error', reject);
      server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #view(status: TunnelProviderStatus): TunnelStatus {
    const view: TunnelStatus = {
      provider: this.#provider.name,
      state: status.state,
      since: status.since,
      restartCount: status.restartCount,
    };
    if (status.state === 'running' && status.publicUrl) {
      view.publicUrl = status.publicUrl;
      view.mcpUrl = `${status.publicUrl}/mcp`;
    }
    if (status.lastError) view.lastError = status.lastError;
    return view;
  }
}
