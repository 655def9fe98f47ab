import type { TunnelSettings } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { CloudflareQuickTunnel } from './cloudflare.js';
import { NgrokTunnel } from './ngrok.js';
import type { TunnelProvider } from './provider.js';

export interface ConfiguredTunnelContext {
  logger: Logger;
  clock: Clock;
  /** The gateway's platform facilities the agent's process gets: its environment, and jitter for retries. */
  deps: { env?: NodeJS.ProcessEnv; random?: () => number };
}

/** The tunnel provider `gateway.tunnel` names, running the user's own cloudflared or ngrok agent. */
export function configuredTunnelProvider(settings: TunnelSettings, context: ConfiguredTunnelContext): TunnelProvider {
  const { deps } = context;
  const executable = settings.provider === 'ngrok' ? settings.ngrokPath : settings.cloudflaredPath;
  const options = {
    logger: context.logger,
    clock: context.clock,
    ...(executable ? { executable } : {}),
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  };
  if (settings.provider === 'ngrok') {
    return new NgrokTunnel({ ...options, ...(settings.domain ? { domain: settings.domain } : {}) });
  }
  return new CloudflareQuickTunnel(options);
}
