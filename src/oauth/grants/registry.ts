import type { TokenResponse } from '../context.js';
import { OAuthError } from '../errors.js';
import type { ClientRecord } from '../store.js';
import type { Params } from '../wire.js';

/** A grant type's handler: the authenticated client and the token request's form, to tokens. */
export type GrantHandler = (client: ClientRecord, form: Params) => Promise<TokenResponse>;

/** `grant_type` → handler (RFC 6749 §4, §6). What it holds is what metadata and registration advertise. */
export type GrantRegistry = ReadonlyMap<string, GrantHandler>;

/** RFC 6749 §5.2: a grant type the registry does not hold is unsupported_grant_type. */
export function grantFor(registry: GrantRegistry, grantType: string | undefined): GrantHandler {
  const handler = grantType === undefined ? undefined : registry.get(grantType);
  if (!handler) {
    throw new OAuthError('unsupported_grant_type', `grant_type ${grantType ?? '(missing)'} is not supported`);
  }
  return handler;
}
