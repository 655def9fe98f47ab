import { must } from '../checks/check.js';
import { codeIssuedTo, codeKnown, codeNotExpired, codeReplayed } from '../checks/code.js';
import { codeVerifierMatches } from '../checks/pkce.js';
import { redirectUriMatchesCode } from '../checks/redirect-uri.js';
import { resourceMatchesGrant } from '../checks/resource.js';
import type { CodeBook, IssuedCode } from '../codes.js';
import type { ServerContext, TokenResponse } from '../context.js';
import type { GrantHandler } from './registry.js';
import type { TokenIssuer } from './issuer.js';

/** RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6) and resource indicators (RFC 8707 §2.2). */
export function authorizationCodeGrant(ctx: ServerContext, codes: CodeBook, issuer: TokenIssuer): GrantHandler {
  /** Everything a code was exchanged for: its refresh family with every access token issued in it. */
  const revokeIssued = (code: IssuedCode) =>
    issuer.revokeFamilies(code.issued.familyId ? [code.issued.familyId] : [], code.issued.jtis);

  return async (client, form) => {
    const code = codeKnown(codes.find(form.code));
    if (code.exchange) {
      // RFC 6749 §4.1.2: a code presented twice has leaked, and the server revokes what it issued.
      // The first exchange may still be under way: wait for it, so what it issues is known here,
      // and it sees the replay and hands its tokens to nobody.
      code.replayed = true;
      ctx.logger.warn('authorization code presented again; revoking what it issued', { clientId: code.clientId });
      await code.exchange.catch(() => undefined);
      await revokeIssued(code);
      throw codeReplayed();
    }
    must(
      codeNotExpired(code, ctx.clock.now()),
      codeIssuedTo(code, client.clientId),
      redirectUriMatchesCode(form.redirect_uri, code.redirectUri),
      codeVerifierMatches(form.code_verifier, code.codeChallenge),
      resourceMatchesGrant(form.resource, code.resource),
    );
    // No await from the lookup above to here: two presentations cannot both pass the check.
    const exchange = issuer
      .issue({
        clientId: client.clientId,
        subject: code.subject,
        scopes: code.scopes,
        resource: code.resource,
        family: undefined,
      })
      .then((issued) => {
        code.issued = { familyId: issued.familyId, jtis: [issued.jti] };
        return issued.response;
      });
    code.exchange = exchange;
    let response: TokenResponse;
    try {
      response = await exchange;
    } catch (error) {
      // Nothing was issued (the grant could not be saved): the client may retry with the same
      // code, unless it was presented again meanwhile.
      if (!code.replayed) delete code.exchange;
      throw error;
    }
    if (code.replayed) {
      await revokeIssued(code);
      throw codeReplayed();
    }
    return response;
  };
}
