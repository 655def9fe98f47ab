import type { EventEmitter } from 'node:events';
import type { TunnelState } from './types.js';

export type { TunnelState } from './types.js';

/** What a provider reports about its own process or session; the gateway adds the listener side. */
export interface TunnelProviderStatus {
  state: TunnelState;
  /** Epoch ms of the last state change. */
  since: number;
  /** The public https origin (no path, no trailing slash), while `running`. */
  publicUrl?: string;
  lastError?: string;
  /** Restarts after the tunnel had come up and then dropped. */
  restartCount: number;
}

export interface TunnelProviderEvents {
  state: [TunnelProviderStatus];
}

/**
 * A way to make one loopback URL reachable from the internet over HTTPS. Implementations supervise
 * whatever they run (a child process, a session) until `stop`: a drop is retried with backoff and
 * reported as `starting` with the last error, and the new public URL is announced when it is up.
 *
 * Providers: `cloudflare` (cloudflared quick tunnel, ./cloudflare.ts) and `ngrok` (the user's ngrok
 * agent, ./ngrok.ts), both supervised child processes (./process-tunnel.ts). The ngrok SDK
 * (@ngrok/ngrok) ships native binaries and is not bundled; an embedder with another provider passes
 * it as `GatewayDeps.tunnelProvider`.
 */
export interface TunnelProvider {
  readonly name: string;
  /** Starts the tunnel to `target` (e.g. http://127.0.0.1:43123) and resolves with its public origin. */
  start(target: string): Promise<string>;
  /** Ends the tunnel and anything it spawned; resolves once it is gone. */
  stop(): Promise<void>;
  status(): TunnelProviderStatus;
  readonly events: EventEmitter<TunnelProviderEvents>;
}
