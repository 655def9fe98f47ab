import type { GatewaySettings } from '../config/schema.js';
import { isLoopbackHostname } from './guards.js';

/**
 * Whether other machines can reach the gateway's own listener, and why. Bound to a non-loopback
 * address, anyone on the network can connect and name a loopback Host; with `allowedHosts`, a proxy
 * relays requests from elsewhere. Either way a request on it may come from anyone, so sign-ins on
 * it are approved only through the owner's approval list, never on the requesting page.
 */
export function exposureOf(settings: Pick<GatewaySettings, 'host' | 'allowedHosts'>): string[] {
  const reasons: string[] = [];
  if (!isLoopbackHostname(settings.host.toLowerCase())) reasons.push(`bound to ${settings.host}`);
  if (settings.allowedHosts.length > 0) reasons.push(`allowedHosts: ${settings.allowedHosts.join(', ')}`);
  return reasons;
}

/** The line `serve` prints when bound where other machines reach it; undefined on a loopback address. */
export function nonLoopbackWarning(host: string, cli: string): string | undefined {
  if (isLoopbackHostname(host.toLowerCase())) return undefined;
  return (
    `listening on ${host}, which other machines can reach: /mcp is protected by its tokens alone, and ` +
    `every sign-in waits for your approval ("${cli} approvals" or the console); bind 127.0.0.1 unless you mean it`
  );
}
