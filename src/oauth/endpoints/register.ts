import { randomBytes, randomUUID } from 'node:crypto';
import {
  applicationType,
  registeredRedirectUris,
  registrationAllowed,
  registrationBody,
  tokenEndpointAuthMethod,
} from '../checks/registration.js';
import { cleanClientName, makeRoomForDcrClient, sweepOAuthState } from '../client-limits.js';
import type { Origin, ServerContext } from '../context.js';
import type { ClientRecord } from '../store.js';
import { sha256 } from '../wire.js';

export type RegisterEndpoint = (body: unknown, origin?: Origin) => Promise<Record<string, unknown>>;

/** RFC 7591 dynamic client registration. `grantTypes`: what the token endpoint's registry holds. */
export function createRegisterEndpoint(ctx: ServerContext, grantTypes: readonly string[]): RegisterEndpoint {
  /** Registration times in the last minute, per listener. */
  const registrations = new Map<string, number[]>();

  return async (body, origin) => {
    // A local gateway sees every registration from 127.0.0.1 (and, behind a tunnel, so does every
    // internet client), so the limit is per listener rather than per address: a flood through the
    // public tunnel cannot lock out the clients on this machine. Per listener, not per Host
    // spelling: 127.0.0.1, localhost and [::1] reach the same listener and share its budget.
    const now = ctx.clock.now();
    const key = origin?.listener ?? origin?.issuer ?? '';
    const recent = (registrations.get(key) ?? []).filter((t) => now - t <= 60_000);
    registrations.set(key, recent);
    registrationAllowed(recent);
    const input = registrationBody(body);
    const redirectUris = registeredRedirectUris(input.redirect_uris);
    const method = tokenEndpointAuthMethod(input.token_endpoint_auth_method);
    const appType = applicationType(input.application_type);
    const clientId = randomUUID();
    const secret = method === 'none' ? undefined : randomBytes(32).toString('base64url');
    const record: ClientRecord = {
      clientId,
      redirectUris,
      tokenEndpointAuthMethod: method,
      source: 'dcr',
      createdAt: now,
    };
    // Cleaned once, here: pages and logs never get bidi overrides or line breaks from a name.
    const name = cleanClientName(input.client_name);
    if (name) record.clientName = name;
    if (typeof input.client_uri === 'string') record.clientUri = input.client_uri.slice(0, 500);
    if (secret) record.clientSecretHash = sha256(secret);
    recent.push(now);
    await ctx.store.update((state) => {
      sweepOAuthState(state, now);
      makeRoomForDcrClient(state, now);
      state.clients[clientId] = record;
    });
    ctx.logger.info('client registered', { clientId, name: record.clientName });
    return {
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      redirect_uris: record.redirectUris,
      token_endpoint_auth_method: method,
      grant_types: [...grantTypes],
      response_types: ['code'],
      ...(record.clientName ? { client_name: record.clientName } : {}),
      ...(appType ? { application_type: appType } : {}),
    };
  };
}
