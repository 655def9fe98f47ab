import { clientCredentials, clientKnown, clientSecretMatches } from './checks/client-auth.js';
import { must } from './checks/check.js';
import { cleanClientName, makeRoomForCimdClient, sweepOAuthState } from './client-limits.js';
import { isMetadataClientId } from './client-metadata.js';
import type { ServerContext } from './context.js';
import type { ClientRecord } from './store.js';
import type { Params } from './wire.js';

/**
 * A registered client, or one described by its Client ID Metadata Document (fetched, then kept
 * in the store so the owner sees it among the clients and its grants survive restarts).
 */
export async function findClient(ctx: ServerContext, clientId: string): Promise<ClientRecord | undefined> {
  const known = ctx.store.state.clients[clientId];
  if (known && known.source !== 'cimd') return known;
  if (!isMetadataClientId(clientId)) return known;
  // Its name cleaned here, at storage time, whatever the fetcher returned.
  const { clientName, ...document } = await ctx.clientMetadata.client(clientId);
  const name = cleanClientName(clientName);
  const fetched: ClientRecord = { ...document, ...(name ? { clientName: name } : {}) };
  if (
    !known ||
    JSON.stringify(known.redirectUris) !== JSON.stringify(fetched.redirectUris) ||
    known.clientName !== fetched.clientName
  ) {
    const now = ctx.clock.now();
    await ctx.store.update((state) => {
      sweepOAuthState(state, now);
      const stored = state.clients[clientId];
      // A new one needs a place among the stored metadata-document clients (or is refused).
      if (!stored) makeRoomForCimdClient(state, now);
      state.clients[clientId] = {
        ...fetched,
        createdAt: stored?.createdAt ?? fetched.createdAt,
        ...(stored?.lastUsedAt !== undefined ? { lastUsedAt: stored.lastUsedAt } : {}),
      };
    });
  }
  return ctx.store.state.clients[clientId];
}

/** RFC 6749 §2.3 client authentication at the token and revocation endpoints: Basic, POST body, or none for public clients. */
export async function authenticateClient(
  ctx: ServerContext,
  form: Params,
  authorization: string | undefined,
): Promise<ClientRecord> {
  const { clientId, secret } = clientCredentials(form, authorization);
  const client = clientKnown(clientId ? await findClient(ctx, clientId) : undefined);
  must(clientSecretMatches(client, secret));
  return client;
}
