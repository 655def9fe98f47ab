/**
 * The gateway's public types: what embedders pass in (`GatewayDeps`), what they get back
 * (`Gateway`) and the events it emits. Types only; `createGateway` (src/index.ts) builds one.
 */
import type { EventEmitter } from 'node:events';
import type { PendingConsentView } from './api/contract.js';
import type { ConsoleApi } from './api/service.js';
import type { ReconcileResult } from './backends/pool.js';
import type { BackendStatus } from './backends/types.js';
import type { GatewayConfig } from './config/schema.js';
import type { GatewayAddress } from './http/listeners.js';
import type { AuthorizationServer, ConsentPrompter } from './oauth/server.js';
import type { ClientMetadataFetcher } from './oauth/client-metadata.js';
import type { Clock } from './shared/clock.js';
import type { Logger } from './shared/logger.js';
import type { WriteFileAtomic } from './store/atomic.js';
import type { SecretStore } from './store/secrets.js';
import type { TunnelProvider } from './tunnel/provider.js';
import type { TunnelStatus } from './tunnel/types.js';

export type { GatewayAddress } from './http/listeners.js';

/** Platform facilities, passed in so Electron and headless (and tests) can each supply their own. */
export interface GatewayDeps {
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Environment the stdio children's safe subset and PATH come from. */
  env?: NodeJS.ProcessEnv;
  /** When the configured port is busy, try the next ones (the default port) instead of failing (an explicit one). */
  portFallback?: boolean;
  /** Built console to serve at /app. */
  consoleDir?: string;
  /**
   * Where OAuth state (clients, grants, keys) and console sessions persist, and running stdio
   * children are recorded (so a crashed run's are stopped at the next start); in memory and
   * unrecorded when absent (tests).
   */
  dataDir?: string;
  /**
   * How the owner runs the CLI on this machine, as the sign-in pages and the console print it
   * (`resolveCliCommand` in src/shared/cli-command.ts computes it). Default: `cortex-gateway`.
   */
  cliCommand?: string;
  /**
   * Where sign-ins on the local listener may be approved (the page of a browser signed in to the
   * console, or only the approval list) and who is told one waits. Listeners reachable from
   * elsewhere always use the approval list, whatever this says.
   */
  consentPrompter?: ConsentPrompter;
  /** Fetcher of Client ID Metadata Documents (tests point it at local servers). */
  clientMetadata?: ClientMetadataFetcher;
  /** The config file backends are edited in (console / API); without it the backend list is read-only. */
  configPath?: string;
  /**
   * Backend secrets (env values, headers) the config file refers to as `${secret:id}`. Default: the
   * key-file store in `dataDir`, or memory without one (tests).
   */
  secretStore?: SecretStore;
  /**
   * Writes the OAuth state and the default secret store's files (a test seam: tests pass one that
   * fails like a full disk where they cannot mount a small file system). Default: writeFileAtomic.
   */
  writeFile?: WriteFileAtomic;
  /** Where log lines go, as the settings page shows it (the desktop app's log folder). Default: standard error. */
  logLocation?: string;
  /**
   * The public tunnel's provider. Default: from `gateway.tunnel` (a cloudflared quick tunnel). The
   * slot for providers that are not bundled, such as ngrok through its SDK.
   */
  tunnelProvider?: TunnelProvider;
}

export interface GatewayEvents {
  'backend-state': [BackendStatus];
  /** The owner paused (true) or resumed (false) serving clients. */
  paused: [boolean];
  'tunnel-state': [TunnelStatus];
  /** A sign-in waits in the owner's approval list (any listener): notify, with its code. */
  'consent-requested': [PendingConsentView];
  /** The approval list changed (joined, decided, expired): recount with `authorizationServer.pendingConsents()`. */
  'approvals-changed': [];
}

/** The public tunnel for claude.ai connectors. */
export interface GatewayTunnel {
  /** Starts it (the gateway must be running) and resolves once it is up or has failed: see `state`. */
  start(): Promise<TunnelStatus>;
  stop(): Promise<TunnelStatus>;
  status(): TunnelStatus;
}

export interface Gateway {
  /** The owner's operations (src/api/service.ts): what the console, the CLI and the tray call. */
  readonly api: ConsoleApi;
  /**
   * Listens, then starts the backends, each connecting on its own (start never waits for them).
   * `backends: 'later'`: listen only, and start them with `startBackends()` (the host publishes
   * where the gateway listens first: spawning children competes with that for the event loop).
   */
  start(options?: { backends?: 'now' | 'later' }): Promise<GatewayAddress>;
  /** Starts the backends of a gateway started with `backends: 'later'`; once. */
  startBackends(): void;
  stop(): Promise<void>;
  backendStatuses(): BackendStatus[];
  restartBackend(name: string): Promise<void>;
  /** Applies a new configuration's backends live (gateway settings need a restart). */
  reconfigure(config: GatewayConfig): Promise<ReconcileResult>;
  readonly events: EventEmitter<GatewayEvents>;
  /**
   * The CLI's owner credential for /api/* (a bearer, new each start): the host writes it to the
   * 0600 runtime file, where the CLI of the same user finds it. The console signs in with a
   * one-time link and a session instead (`consoleLoginUrl`).
   */
  readonly ownerToken: string;
  readonly address: GatewayAddress | undefined;
  /** The OAuth authorization server, once started. */
  readonly authorizationServer: AuthorizationServer | undefined;
  readonly tunnel: GatewayTunnel;
  /** Paused: every MCP request is answered 503 (clients retry later); backends and sessions are kept. */
  readonly paused: boolean;
  setPaused(paused: boolean): void;
  /** A one-time link that signs the owner in to the console (15 minutes). */
  consoleLoginUrl(): string;
  /** A personal access token for scripts and header-only clients (`*` grants everything). */
  createPersonalToken(input: { name: string; scopes: string[]; ttlSeconds: number }): Promise<{
    id: string;
    token: string;
    expiresAt: number;
  }>;
  [Symbol.asyncDispose](): Promise<void>;
}
