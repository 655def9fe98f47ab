import type { ServerContext } from '../context.js';
import type { ClientView } from '../views.js';

/** Registered clients with their grants, for the owner; secrets (even hashed) stay inside. */
export function listClients(ctx: ServerContext): ClientView[] {
  const state = ctx.store.state;
  return Object.values(state.clients)
    .filter((client) => client.source !== 'pat')
    .map((client) => {
      const view: ClientView = {
        clientId: client.clientId,
        redirectUris: client.redirectUris,
        source: client.source,
        createdAt: client.createdAt,
        scopes: state.consents[client.clientId]?.scopes ?? [],
        activeGrants: Object.values(state.refreshFamilies).filter(
          (f) => f.clientId === client.clientId && f.revokedAt === undefined,
        ).length,
      };
      if (client.clientName) view.clientName = client.clientName;
      if (client.lastUsedAt !== undefined) view.lastUsedAt = client.lastUsedAt;
      return view;
    });
}

/** Ends every grant of a client: refresh families revoked, consent forgotten. Access tokens expire on their own within the hour. */
export async function revokeClient(ctx: ServerContext, clientId: string): Promise<boolean> {
  if (!ctx.store.state.clients[clientId]) return false;
  const now = ctx.clock.now();
  await ctx.store.update((s) => {
    for (const family of Object.values(s.refreshFamilies)) {
      if (family.clientId === clientId && family.revokedAt === undefined) family.revokedAt = now;
    }
    delete s.consents[clientId];
    s.revokedClients[clientId] = now;
  });
  return true;
}
