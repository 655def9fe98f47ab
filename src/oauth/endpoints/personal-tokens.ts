import { randomBytes } from 'node:crypto';
import { personalTokenScopes } from '../checks/scope.js';
import { OWNER, type Origin, type ServerContext } from '../context.js';
import type { PersonalToken } from '../store.js';
import { issueAccessToken } from '../tokens.js';

export interface PersonalTokenInput {
  name: string;
  scopes: string[];
  ttlSeconds: number;
  origin: Origin;
}

/** The owner's personal access tokens: long-lived access tokens for scripts and header-only clients. */
export interface PersonalTokens {
  create(input: PersonalTokenInput): Promise<{ id: string; token: string; expiresAt: number }>;
  list(): PersonalToken[];
  revoke(id: string): Promise<boolean>;
}

export function createPersonalTokens(ctx: ServerContext): PersonalTokens {
  return {
    async create(input) {
      const scopes = personalTokenScopes(input.scopes, ctx.supportedScopes());
      const id = `pat_${randomBytes(6).toString('hex')}`;
      const access = await issueAccessToken(ctx.keys, input.origin.issuer, ctx.clock, {
        subject: OWNER,
        clientId: id,
        scopes,
        resource: input.origin.resource,
        ttlSeconds: input.ttlSeconds,
      });
      await ctx.store.update((state) => {
        state.personalTokens[id] = {
          id,
          name: input.name,
          scopes,
          createdAt: ctx.clock.now(),
          expiresAt: access.expiresAt,
          jti: access.jti,
        };
      });
      return { id, token: access.token, expiresAt: access.expiresAt };
    },

    list: () => Object.values(ctx.store.state.personalTokens),

    async revoke(id) {
      const pat = ctx.store.state.personalTokens[id];
      if (!pat) return false;
      const now = ctx.clock.now();
      await ctx.store.update((state) => {
        state.personalTokens[id]!.revokedAt = now;
        state.revokedJtis[pat.jti] = pat.expiresAt;
      });
      return true;
    },
  };
}
