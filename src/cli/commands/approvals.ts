/**
 * `cortex-gateway approvals …`: the owner's side of sign-ins, headless, through the running
 * gateway's owner API; and the serve terminal's notice of each sign-in that waits.
 */
import type { PendingConsentView, ScopeView } from '../../api/contract.js';
import type { Gateway } from '../../index.js';
import { normalizeUserCode } from '../../oauth/requester.js';
import { GatewayError } from '../../shared/errors.js';
import { locateGateway, ownerCall, parseCommand, usageError, type CliCommand, type Write } from '../common.js';

function age(createdAt: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - createdAt) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}

/** Where a waiting sign-in came from, as the approval list shows it. */
function origin(p: PendingConsentView): string {
  const where = p.listener === 'tunnel' ? `the public tunnel (${p.origin})` : `this machine's listener (${p.origin})`;
  const client =
    p.clientSource === 'cimd' ? `metadata document at ${p.clientDomain ?? p.clientId}` : `registered through /register`;
  const registered = p.clientRegisteredAt === undefined ? '' : ` ${age(p.clientRegisteredAt)}`;
  return (
    `    via ${where} from ${p.remoteAddress ?? 'an unknown address'}\n` +
    (p.userAgent ? `    browser: ${p.userAgent}\n` : '') +
    `    client: ${client}${registered}\n`
  );
}

function formatPending(list: readonly PendingConsentView[], cli: string): string {
  if (list.length === 0) return 'No sign-in is waiting for approval.\n';
  return (
    list
      .map(
        (p) =>
          `${p.id}  ${p.clientName} (returns to ${p.redirectHost}), ${age(p.createdAt)}\n` +
          `    code: ${p.userCode}\n` +
          origin(p) +
          `    asks for: ${p.requestedScopes.join(' ') || '(no scope named)'}\n` +
          (p.returning ? `    approved before: approving keeps ${p.suggestedScopes.join(' ') || 'no scope'}\n` : ''),
      )
      .join('') +
    `Check that the code is the one the sign-in page shows, then "${cli} approvals approve CODE [--scope S…]" ` +
    `(read access unless --scope says more), or "${cli} approvals deny CODE".\n`
  );
}

/** The waiting request an id or a code (as typed) names. */
function findPending(list: readonly PendingConsentView[], idOrCode: string): PendingConsentView {
  const code = normalizeUserCode(idOrCode);
  const found = list.find((p) => p.id === idOrCode || (code !== undefined && p.userCode === code));
  if (!found) throw new GatewayError('not_found', `no pending request with id or code ${idOrCode}`);
  return found;
}

/** `approvals [list] | approve ID|CODE [--scope S…] | deny ID|CODE`. */
async function approvals(args: string[], write: Write, cli: string): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { scope: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    true,
  );
  const [sub = 'list', id, ...extra] = positionals;
  if (extra.length) throw usageError(`approvals: unexpected "${extra.join(' ')}"`);
  const place = await locateGateway(values, 'none');
  const list = await ownerCall<PendingConsentView[]>(place, 'GET', '/api/consents');
  if (sub === 'list') {
    write(values.json ? JSON.stringify(list, null, 2) + '\n' : formatPending(list, cli));
    return 0;
  }
  if (sub !== 'approve' && sub !== 'deny') {
    throw usageError(`approvals: unknown subcommand "${sub}" (list, approve ID|CODE, deny ID|CODE)`);
  }
  if (!id) throw usageError(`approvals ${sub}: give the request's code or id (see "${cli} approvals")`);
  const pending = findPending(list, id);
  const decide = (body: { decision: 'approve' | 'deny'; scopes: string[] }) =>
    ownerCall(place, 'POST', `/api/consents/${encodeURIComponent(pending.id)}`, body);
  const named = `${pending.clientName} (code ${pending.userCode})`;
  if (sub === 'deny') {
    if (values.scope) throw usageError('approvals deny: --scope applies to approve only');
    await decide({ decision: 'deny', scopes: [] });
    write(`Denied ${named}.\n`);
    return 0;
  }
  // Without --scope: read access to what was asked for (write access is granted only by naming it).
  let scopes = (values.scope ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  if (scopes.length === 0) {
    if (pending.requestedScopes.length === 0 && !pending.returning) {
      // Granting every server by default to a client that named nothing is too generous: ask.
      const available = await ownerCall<ScopeView[]>(place, 'GET', '/api/scopes');
      throw usageError(
        `approvals approve: this sign-in names no scope; choose with --scope ` +
          `(available: ${available.map((v) => v.scope).join(' ') || 'none, no server is configured'})`,
      );
    }
    scopes = pending.suggestedScopes;
  }
  await decide({ decision: 'approve', scopes });
  const withheld = pending.requestedScopes.filter((s) => !scopes.includes(s));
  write(
    `Approved ${named}${scopes.length ? ` with ${scopes.join(' ')}` : ' (no scope)'}.\n` +
      (withheld.length
        ? `Not granted: ${withheld.join(' ')} (approve again with --scope to grant it at the next sign-in).\n`
        : ''),
  );
  return 0;
}

/**
 * Tells the terminal of each sign-in that waits in the approval list (the headless notification),
 * with its code and the commands that decide it. `cli` is how the owner types the CLI here.
 */
export function announceApprovals(gateway: Gateway, write: Write, cli = 'cortex-gateway'): void {
  gateway.events.on('consent-requested', (request) => {
    const where = request.listener === 'tunnel' ? 'through the tunnel' : 'on this machine';
    write(
      `Approval needed: ${request.clientName} (returns to ${request.redirectHost}, ${where}) asks for ` +
        `${request.requestedScopes.join(' ') || 'no scope'}; code ${request.userCode}.\n` +
        `  ${cli} approvals approve ${request.userCode}    or    ${cli} approvals deny ${request.userCode}\n`,
    );
  });
}

export const approvalsCommand: CliCommand = {
  name: 'approvals',
  usage: 'approvals [list] | approvals approve CODE [--scope S…] | approvals deny CODE',
  summary: 'Sign-ins waiting for the owner, each with the code its browser shows',
  details: ['(approve grants read access to what was asked unless --scope says which scopes); --json'],
  run: async (args, io) => approvals(args, io.out, await io.cliCommand()),
};
