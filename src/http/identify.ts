import type { Identity } from '../mcp/builtins.js';
import { grantedScopes } from '../oauth/owner-grants.js';
import type { OAuthStore } from '../oauth/store.js';
import type { VerifiedToken } from '../oauth/tokens.js';

/**
 * Who a token's holder is, and what it may use now: the owner's current decision for an OAuth
 * client, a personal token's own scopes (grants.ts). The one place a token becomes a grant; here,
 * since an identity is the endpoint's type and a token the authorization server's.
 */
export function identifyWith(store: OAuthStore): (token: VerifiedToken) => Identity {
  return (token) => {
    const state = store.state;
    const name = state.clients[token.clientId]?.clientName ?? state.personalTokens[token.clientId]?.name;
    return {
      subject: token.subject,
      clientId: token.clientId,
      ...(name ? { clientName: name } : {}),
      scopes: grantedScopes(state, token),
    };
  };
}
