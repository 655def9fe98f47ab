import type { EventEmitter } from 'node:events';
import type { GatewaySettings, TunnelSettings } from '../config/schema.js';
import type { GatewayDeps, GatewayEvents } from '../gateway.js';
import { exposureOf } from '../http/exposure.js';
import { createListeners } from '../http/listeners.js';
import { createConsentPolicy } from '../oauth/consent-policy.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { configuredTunnelProvider } from '../tunnel/configured-provider.js';
import { TunnelController } from '../tunnel/controller.js';

/**
 * Where a gateway is reached: the local listener and the tunnel's (src/http/listeners.ts), the
 * tunnel controller that binds the latter, the consent policy that depends on both, and what a saved
 * change of the tunnel settings does.
 */
export function wireListeners(
  settings: Readonly<GatewaySettings>,
  deps: GatewayDeps,
  context: { logger: Logger; clock: Clock; events: EventEmitter<GatewayEvents> },
) {
  const { logger, clock, events } = context;
  const listeners = createListeners({
    settings,
    portFallback: deps.portFallback === true,
    tunnelOrigin: () => tunnel.publicOrigin(),
    logger,
    clock,
  });
  const tunnel = new TunnelController({
    provider: deps.tunnelProvider ?? configuredTunnelProvider(settings.tunnel, { logger, clock, deps }),
    handler: listeners.tunnelHandler,
    port: settings.tunnel.port,
    limits: settings,
    logger: logger.child({ component: 'tunnel' }),
    clock,
  });
  tunnel.events.on('state', (status) => events.emit('tunnel-state', status));
  const prompter = createConsentPolicy({
    exposed: exposureOf(settings).length > 0,
    localOrigins: listeners.origins,
    ...(deps.consentPrompter ? { embedder: deps.consentPrompter } : {}),
    requested: (request) => events.emit('consent-requested', request),
    changed: () => events.emit('approvals-changed'),
  });
  /** The next tunnel start uses the owner's saved settings; a provider injected by the embedder stays. */
  const tunnelSettingsSaved = deps.tunnelProvider
    ? undefined
    : (saved: TunnelSettings) => tunnel.useProvider(configuredTunnelProvider(saved, { logger, clock, deps }));
  return { listeners, tunnel, prompter, tunnelSettingsSaved };
}
