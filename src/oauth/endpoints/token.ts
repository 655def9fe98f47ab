import { authenticateClient } from '../client-directory.js';
import type { ServerContext, TokenResponse } from '../context.js';
import { grantFor, type GrantRegistry } from '../grants/registry.js';
import type { Params } from '../wire.js';

export type TokenEndpoint = (form: Params, authorization: string | undefined) => Promise<TokenResponse>;

/** RFC 6749 §3.2: the client authenticates (§2.3), then its grant type's handler answers. */
export function createTokenEndpoint(ctx: ServerContext, grants: GrantRegistry): TokenEndpoint {
  return async (form, authorization) => {
    const client = await authenticateClient(ctx, form, authorization);
    return grantFor(grants, form.grant_type)(client, form);
  };
}
