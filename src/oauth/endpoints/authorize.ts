import { randomBytes, randomUUID } from 'node:crypto';
import { isStorageError } from '../../store/fs-errors.js';
import type { CheckResult } from '../checks/check.js';
import { codeChallengeValid } from '../checks/pkce.js';
import { redirectUriFor } from '../checks/redirect-uri.js';
import { resourceServed } from '../checks/resource.js';
import { responseTypeIsCode } from '../checks/response-type.js';
import { readOnlyDefault, requestedScopes } from '../checks/scope.js';
import { findClient } from '../client-directory.js';
import { errorPage, type AuthorizeOutcome, type Origin, type ServerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { rememberedGrant } from '../owner-grants.js';
import type { Requester } from '../requester.js';
import type { ClientRecord } from '../store.js';
import { appendParams, type Params } from '../wire.js';
import type { ApprovalQueue, PendingAuthorization } from './approvals.js';
import { requestPage } from './request-page.js';
import type { UnlistedRequests } from './unlisted.js';

export type AuthorizeEndpoint = (query: Params, origin: Origin, requester?: Requester) => Promise<AuthorizeOutcome>;

/**
 * RFC 6749 §4.1.1 authorization endpoint. Client and redirect URI first: until both are known good
 * an error is shown, never redirected (§4.1.2.1). Then the request's checks, whose failures go back
 * to the client. A good request waits for the owner (approvals.ts), with a page that shows its code.
 */
export function createAuthorizeEndpoint(
  ctx: ServerContext,
  approvals: ApprovalQueue,
  unlisted: UnlistedRequests,
): AuthorizeEndpoint {
  /**
   * A request the owner must decide (after any remembered consent). It waits in the owner's list,
   * with a code its page shows and the approval view repeats, so the owner approves the request
   * their own browser made and not a look-alike. Over the caps it is unlisted (see LISTED_CAPS).
   */
  const ask = (
    request: PendingAuthorization,
    client: ClientRecord,
    origin: Origin,
    requester: Requester,
    /** The owner's earlier decision for this client: approving it again needs no choice. */
    remembered: string[] | undefined,
  ): AuthorizeOutcome => {
    const suggestedScopes =
      remembered ?? readOnlyDefault(request.requestedScopes, ctx.scopeGroups(), ctx.supportedScopes());
    const returning = remembered !== undefined;
    if (approvals.full(request.clientId, requester.address)) {
      if (request.mode !== 'page') {
        ctx.logger.warn('sign-in refused: too many waiting for the owner', { clientId: client.clientId });
        return errorPage(
          'Too many sign-ins waiting',
          'The owner has too many sign-ins to approve; try again later.',
          429,
          'too_many_waiting',
        );
      }
      ctx.logger.warn('sign-in not listed: too many waiting for the owner', { clientId: client.clientId });
      return requestPage(ctx, { request, client, suggestedScopes, returning, formId: unlisted.seal(request) });
    }
    const waiting = approvals.add({
      ...request,
      listener: origin.listener ?? 'local',
      requester,
      suggestedScopes,
      returning,
    });
    const { userCode } = waiting;
    return requestPage(ctx, { request: waiting, client, suggestedScopes, returning, userCode, formId: waiting.id });
  };

  return async (query, origin, requester = {}) => {
    approvals.expire();
    let client: ClientRecord | undefined;
    try {
      client = query.client_id ? await findClient(ctx, query.client_id) : undefined;
    } catch (error) {
      // The client's metadata document was fetched but could not be saved: not the client's fault.
      if (isStorageError(error)) throw error;
      const message = error instanceof OAuthError ? error.description : 'The application could not be identified.';
      return errorPage('Unknown application', message);
    }
    if (!client) {
      return errorPage('Unknown application', 'This client is not registered with Cortex Gateway.');
    }
    const redirectUri = redirectUriFor(query.redirect_uri, client);
    if (!redirectUri) {
      return errorPage('Invalid redirect', 'The address this application wants to return to is not one it registered.');
    }
    const checks: CheckResult[] = [
      responseTypeIsCode(query.response_type),
      codeChallengeValid(query.code_challenge, query.code_challenge_method),
      resourceServed(query.resource, origin.resource),
    ];
    const failed = checks.find((result) => result !== undefined);
    if (failed) {
      return {
        kind: 'redirect',
        // RFC 9207: iss on every authorization response, errors included.
        location: appendParams(redirectUri, {
          error: failed.code,
          error_description: failed.description,
          state: query.state,
          iss: origin.issuer,
        }),
      };
    }

    const supported = ctx.supportedScopes();
    const pending: PendingAuthorization = {
      id: randomUUID(),
      csrf: randomBytes(24).toString('base64url'),
      clientId: client.clientId,
      redirectUri,
      state: query.state,
      codeChallenge: query.code_challenge!,
      resource: origin.resource,
      issuer: origin.issuer,
      requestedScopes: requestedScopes(query.scope, supported),
      createdAt: ctx.clock.now(),
      mode: ctx.prompter.mode(origin),
    };

    // The owner decided for this client before: it gets that decision, whatever it asks for now
    // (owner-grants.ts), so a server added since does not send it through consent again. It still needs
    // the owner's presence, never a code handed to whoever asks: any local process may start an
    // authorization with a known client id and a loopback redirect on a port of its own (RFC 8252
    // §7.3 lets the port vary), and a metadata-document id is a public URL. So the page continues
    // by itself in a browser signed in to the console, and waits in the approval list elsewhere.
    const remembered = rememberedGrant(ctx.store.state.consents[client.clientId], supported);
    return ask(pending, client, origin, requester, remembered);
  };
}
