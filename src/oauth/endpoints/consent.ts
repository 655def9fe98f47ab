import { chosenScopes } from '../checks/scope.js';
import type { CodeBook } from '../codes.js';
import { errorPage, expiredPage, OWNER, type AuthorizeOutcome, type ServerContext } from '../context.js';
import { appendParams, safeEqual, type Params } from '../wire.js';
import type { ApprovalQueue, PendingAuthorization } from './approvals.js';
import { requestPage } from './request-page.js';
import { UnlistedRequests } from './unlisted.js';

export interface ConsentEndpoints {
  /**
   * The owner's answer on the consent page, sent by the page's script. Only the owner decides here:
   * `ownerPresent` is the proof (a live console session in the request's header, from this
   * listener's exact origin). A form POST without it is refused, whatever CSRF token it carries:
   * the token is in the page, which any process that started the request can read.
   */
  decide(form: Record<string, string | string[] | undefined>, ownerPresent: boolean): Promise<AuthorizeOutcome>;
  /**
   * The waiting page polls here, with the request's secret (its CSRF token, which only the page
   * that made the request was given): the decision once made, else the page again. The answer
   * with the code goes to that page only, once: the request is gone after it.
   */
  wait(query: Params): Promise<AuthorizeOutcome>;
}

const ownerRequired = (): AuthorizeOutcome =>
  errorPage(
    'Only the owner can approve',
    'Approving a sign-in needs the owner of this gateway: a browser signed in to its console, at the same ' +
      'address, or the approval list (the console’s Clients & access, the desktop notification, or ' +
      '"cortex-gateway approvals").',
    403,
    'owner_required',
  );

/** The consent decision (on the page, or in the approval list and collected by the page) and its answer. */
export function createConsentEndpoints(
  ctx: ServerContext,
  approvals: ApprovalQueue,
  unlisted: UnlistedRequests,
  codes: CodeBook,
): ConsentEndpoints {
  /** RFC 6749 §4.1.2: the code (or §4.1.2.1 access_denied) back to the client, with RFC 9207 iss. */
  const finish = async (
    pending: PendingAuthorization,
    approve: boolean,
    chosen: readonly unknown[],
  ): Promise<AuthorizeOutcome> => {
    if (!approve) {
      return {
        kind: 'redirect',
        location: appendParams(pending.redirectUri, {
          error: 'access_denied',
          error_description: 'The owner denied access',
          state: pending.state,
          iss: pending.issuer,
        }),
      };
    }
    const scopes = chosenScopes(chosen, ctx.supportedScopes());
    await ctx.store.update((state) => {
      state.consents[pending.clientId] = { clientId: pending.clientId, scopes, decidedAt: ctx.clock.now() };
    });
    ctx.logger.info('access granted', { clientId: pending.clientId, scopes: scopes.join(' ') });
    const code = codes.issue(
      {
        clientId: pending.clientId,
        redirectUri: pending.redirectUri,
        codeChallenge: pending.codeChallenge,
        resource: pending.resource,
        scopes,
        subject: OWNER,
      },
      ctx.clock.now(),
    );
    return {
      kind: 'redirect',
      location: appendParams(pending.redirectUri, { code, state: pending.state, iss: pending.issuer }),
    };
  };

  /**
   * `finish`, with the request put back when the consent could not be saved (a full disk): the
   * owner can submit again once there is space, instead of the application starting over.
   */
  const finishOrRestore = async (
    pending: PendingAuthorization,
    approve: boolean,
    chosen: readonly unknown[],
    restore: () => void,
  ): Promise<AuthorizeOutcome> => {
    try {
      return await finish(pending, approve, chosen);
    } catch (error) {
      restore();
      throw error;
    }
  };

  return {
    async decide(form, ownerPresent) {
      approvals.expire();
      unlisted.sweep(ctx.clock.now());
      if (!ownerPresent) return ownerRequired();
      const id = typeof form.request_id === 'string' ? form.request_id : '';
      const sealed = UnlistedRequests.isSealed(id) ? unlisted.open(id, ctx.clock.now()) : undefined;
      const listed = sealed ? undefined : approvals.get(id);
      const pending = sealed ?? listed;
      if (!pending) return expiredPage();
      if (typeof form.csrf !== 'string' || !safeEqual(form.csrf, pending.csrf)) {
        return errorPage('Request refused', 'The consent form was not valid for this request.', 403, 'invalid_form');
      }
      if (pending.mode !== 'page') {
        return errorPage(
          'Request refused',
          'This request came in where only the approval list may decide it.',
          403,
          'approval_list_only',
        );
      }
      if (listed?.decision) {
        return errorPage(
          'Already decided',
          'The owner decided this request in the approval list.',
          409,
          'already_decided',
        );
      }
      const approve = form.decision === 'approve';
      const scopes = [form.scope ?? []].flat();
      const restore = listed ? approvals.take(listed) : unlisted.decide(pending);
      return finishOrRestore(pending, approve, scopes, restore);
    },

    async wait(query) {
      approvals.expire();
      const pending = query.request ? approvals.get(query.request) : undefined;
      if (!pending) return expiredPage();
      if (!query.token || !safeEqual(query.token, pending.csrf)) {
        return errorPage('Request refused', 'This page is not the one that made the request.', 403);
      }
      if (!pending.decision) {
        const client = ctx.store.state.clients[pending.clientId];
        if (!client) return expiredPage();
        return requestPage(ctx, {
          request: pending,
          client,
          suggestedScopes: pending.suggestedScopes,
          returning: pending.returning,
          userCode: pending.userCode,
          formId: pending.id,
        });
      }
      const restore = approvals.take(pending);
      return finishOrRestore(pending, pending.decision.approve, pending.decision.scopes, restore);
    },
  };
}
