import { familyIdOf } from '../checks/refresh-family.js';
import { authenticateClient } from '../client-directory.js';
import type { ServerContext } from '../context.js';
import type { TokenIssuer } from '../grants/issuer.js';
import type { TokenVerifier } from '../tokens.js';
import { safeEqual, sha256, type Params } from '../wire.js';

export type RevokeEndpoint = (form: Params, authorization: string | undefined) => Promise<void>;

/** RFC 7009 token revocation: a client revokes its own refresh or access tokens. */
export function createRevokeEndpoint(ctx: ServerContext, issuer: TokenIssuer, verify: TokenVerifier): RevokeEndpoint {
  return async (form, authorization) => {
    const client = await authenticateClient(ctx, form, authorization);
    const token = form.token ?? '';
    const family = ctx.store.state.refreshFamilies[familyIdOf(token)];
    if (family && family.clientId === client.clientId && safeEqual(sha256(token), family.currentHash)) {
      // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
      await issuer.revokeFamilies([family.id], []);
      return;
    }
    // An access token: only its own client may revoke it. Unknown tokens are not an error (§2.2).
    let claims;
    try {
      claims = await verify(token);
    } catch {
      return; // Invalid or foreign tokens: nothing to do.
    }
    if (claims.clientId !== client.clientId) return;
    // A revocation that could not be saved is an error, never a 200 the client would trust.
    await ctx.store.update((state) => {
      state.revokedJtis[claims.jti] = claims.expiresAt;
    });
  };
}
