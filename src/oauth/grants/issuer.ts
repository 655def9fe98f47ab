import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerContext, TokenResponse } from '../context.js';
import { OAuthError } from '../errors.js';
import { RefreshGrace } from '../refresh-grace.js';
import type { RefreshFamily } from '../store.js';
import { issueAccessToken } from '../tokens.js';
import { sameResource, sha256 } from '../wire.js';

/** A rotation's answer, kept for the grace window with the time its access token expires. */
export interface RotationAnswer {
  response: TokenResponse;
  accessExpiresAt: number;
}

export interface Issued {
  response: TokenResponse;
  familyId: string;
  jti: string;
  accessExpiresAt: number;
}

/**
 * Mints and ends grants, for both grant types and the revocation endpoint: an access token and a
 * refresh token in a refresh family (new, or the family being rotated), and the revocation of
 * families with every access token issued in them.
 */
export interface TokenIssuer {
  issue(input: {
    clientId: string;
    subject: string;
    scopes: string[];
    resource: string;
    family: RefreshFamily | undefined;
  }): Promise<Issued>;
  /**
   * Ends refresh families and the access tokens issued in them that have not expired, plus the
   * given access token ids (expiring with the access token lifetime), in one write.
   */
  revokeFamilies(familyIds: readonly string[], jtis: readonly string[]): Promise<void>;
  /** The answers of recent rotations (refresh-grace.ts). */
  readonly grace: RefreshGrace<RotationAnswer>;
}

export function createTokenIssuer(ctx: ServerContext): TokenIssuer {
  const grace = new RefreshGrace<RotationAnswer>(ctx.refreshGraceMs);

  const issuerFor = (resource: string): string => {
    const match = ctx.origins().find((o) => sameResource(o.resource, resource));
    return match?.issuer ?? new URL(resource).origin;
  };

  return {
    grace,
    async issue({ clientId, subject, scopes, resource, family }) {
      const now = ctx.clock.now();
      const access = await issueAccessToken(ctx.keys, issuerFor(resource), ctx.clock, {
        subject,
        clientId,
        scopes,
        resource,
        ttlSeconds: ctx.accessTokenTtlSeconds,
      });
      const familyId = family?.id ?? randomUUID();
      const refresh = `${familyId}.${randomBytes(32).toString('base64url')}`;
      const issuedAccess = { jti: access.jti, expiresAt: access.expiresAt };
      await ctx.store.update((state) => {
        const existing = state.refreshFamilies[familyId];
        // Revoked while this rotation was being signed (a replayed code, the owner): it issues nothing.
        if (existing?.revokedAt !== undefined)
          throw new OAuthError('invalid_grant', 'Unknown or revoked refresh token');
        if (existing) {
          existing.previousHash = existing.currentHash;
          existing.currentHash = sha256(refresh);
          existing.rotatedAt = now;
          existing.lastUsedAt = now;
          existing.accessTokens = [...(existing.accessTokens ?? []).filter((t) => t.expiresAt > now), issuedAccess];
        } else {
          state.refreshFamilies[familyId] = {
            id: familyId,
            clientId,
            subject,
            scopes: family?.scopes ?? scopes,
            resource,
            currentHash: sha256(refresh),
            accessTokens: [issuedAccess],
            createdAt: now,
            lastUsedAt: now,
            expiresAt: now + ctx.refreshTokenTtlSeconds * 1000,
          };
        }
        const client = state.clients[clientId];
        if (client) client.lastUsedAt = now;
      });
      return {
        familyId,
        jti: access.jti,
        accessExpiresAt: access.expiresAt,
        response: {
          access_token: access.token,
          token_type: 'Bearer',
          expires_in: ctx.accessTokenTtlSeconds,
          refresh_token: refresh,
          scope: scopes.join(' '),
        },
      };
    },
    async revokeFamilies(familyIds, jtis) {
      const now = ctx.clock.now();
      for (const id of familyIds) grace.forget(id);
      await ctx.store.update((state) => {
        for (const id of familyIds) {
          const family = state.refreshFamilies[id];
          if (!family) continue;
          family.revokedAt ??= now;
          for (const access of family.accessTokens ?? []) {
            if (access.expiresAt > now) state.revokedJtis[access.jti] = access.expiresAt;
          }
        }
        for (const jti of jtis) state.revokedJtis[jti] ??= now + ctx.accessTokenTtlSeconds * 1000;
      });
    },
  };
}
