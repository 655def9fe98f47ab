import { renderRequestPage } from '../consent-page.js';
import type { AuthorizeOutcome, ServerContext } from '../context.js';
import type { ClientRecord } from '../store.js';
import type { PendingAuthorization } from './approvals.js';

export interface RequestPageInput {
  request: PendingAuthorization;
  client: ClientRecord;
  suggestedScopes: readonly string[];
  returning: boolean;
  /** Listed: the code the approval list shows, and the page polls for the decision. */
  userCode?: string;
  /** What the consent form names the request by: its id when listed, the sealed request when not. */
  formId: string;
}

/** The page of a listed request (with its code), or of an unlisted one (sealed into its form). */
export function requestPage(ctx: ServerContext, input: RequestPageInput): AuthorizeOutcome {
  const { request, client, userCode } = input;
  const redirect = new URL(request.redirectUri);
  const html = renderRequestPage({
    clientName: client.clientName ?? 'An unnamed application',
    clientId: client.clientId,
    redirectHost: redirect.host || redirect.protocol,
    // The CLI's spelling may name the owner's home folder: only for pages this machine alone reaches.
    cli: request.mode === 'page' ? ctx.cliCommand : 'cortex-gateway',
    ...(userCode
      ? {
          userCode,
          waitUrl: `/authorize/wait?request=${encodeURIComponent(request.id)}&token=${encodeURIComponent(request.csrf)}`,
        }
      : {}),
    ...(request.mode === 'page'
      ? {
          form: {
            requestId: input.formId,
            csrf: request.csrf,
            groups: ctx.scopeGroups(),
            checked: new Set(input.suggestedScopes),
            returning: input.returning,
          },
        }
      : {}),
  });
  return { kind: 'page', status: 200, html };
}
