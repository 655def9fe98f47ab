import { must } from '../checks/check.js';
import { familyIdOf, familyIssuedTo, familyLive, familyNotExpired } from '../checks/refresh-family.js';
import { narrowedScopes } from '../checks/scope.js';
import type { ServerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { safeEqual, sha256 } from '../wire.js';
import type { TokenIssuer } from './issuer.js';
import type { GrantHandler } from './registry.js';

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): each refresh token works once. Presented again
 * within the grace window it gets the same answer as the first time; after it, or once a later
 * rotation replaced it, its return means two parties hold the grant, and the grant ends.
 */
export function refreshTokenGrant(ctx: ServerContext, issuer: TokenIssuer): GrantHandler {
  return async (client, form) => {
    const token = form.refresh_token ?? '';
    const familyId = familyIdOf(token);
    const family = familyLive(ctx.store.state.refreshFamilies[familyId]);
    const now = ctx.clock.now();
    must(familyIssuedTo(family, client.clientId), familyNotExpired(family, now));
    const hash = sha256(token);
    // A retry, or a refresh racing this token's rotation: the same tokens, not a second chain.
    const earlier = issuer.grace.find(familyId, hash, now);
    if (earlier) {
      ctx.logger.debug('refresh token presented again during its rotation; the same tokens are sent', {
        clientId: client.clientId,
      });
      const { response, accessExpiresAt } = await earlier;
      return { ...response, expires_in: Math.max(0, Math.floor((accessExpiresAt - ctx.clock.now()) / 1000)) };
    }
    if (!safeEqual(hash, family.currentHash)) {
      const justRotated =
        family.previousHash !== undefined &&
        safeEqual(hash, family.previousHash) &&
        family.rotatedAt !== undefined &&
        now - family.rotatedAt <= ctx.refreshGraceMs;
      if (justRotated) {
        // Rotated within the window, but its answer is gone (the gateway restarted): nothing to
        // resend, and a new pair would fork the grant. The client holding the new token goes on.
        throw new OAuthError('invalid_grant', 'Refresh token was just rotated; use the new one');
      }
      // Reuse of a rotated token: someone else may hold it. End the family, access tokens included.
      await issuer.revokeFamilies([familyId], []);
      ctx.logger.warn('refresh token reuse detected; grant revoked', { clientId: client.clientId });
      throw new OAuthError('invalid_grant', 'Refresh token was already used; the grant is revoked');
    }
    const scopes = narrowedScopes(form.scope, family.scopes);
    // No await since the lookup above: a concurrent refresh with this token finds this rotation.
    const rotation = issuer
      .issue({ clientId: client.clientId, subject: family.subject, scopes, resource: family.resource, family })
      .then((issued) => ({ response: issued.response, accessExpiresAt: issued.accessExpiresAt }));
    return (await issuer.grace.start(familyId, hash, now, rotation)).response;
  };
}
