/**
 * `cortex-gateway approvals …` and `cortex-gateway tunnel …`: the owner's side of the public tunnel,
 * headless. Both talk to the running gateway's owner API, found through its runtime file.
 */
import type { PendingConsentView, ScopeView, TunnelStatus } from './api/contract.js';
import { dataDirOf, ownerCall, parseCommand, usageError, type Write } from './cli-common.js';
import type { Gateway } from './index.js';
import { GatewayError } from './shared/errors.js';

function age(createdAt: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - createdAt) / 1000));
  return seconds < 120 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
}

function formatPending(list: readonly PendingConsentView[]): string {
  if (list.length === 0) return 'No sign-in is waiting for approval.\n';
  return (
    list
      .map(
        (p) =>
          `${p.id}  ${p.clientName} (returns to ${p.redirectHost}), ${age(p.createdAt)}\n` +
          `    asks for: ${p.requestedScopes.join(' ') || '(no scope named)'}\n`,
      )
      .join('') + 'Approve with "cortex-gateway approvals approve ID [--scope S…]", or "approvals deny ID".\n'
  );
}

/** `approvals [list] | approve ID [--scope S…] | deny ID`. */
export async function approvalsCommand(args: string[], write: Write): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { scope: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    true,
  );
  const [sub = 'list', id, ...extra] = positionals;
  if (extra.length) throw usageError(`approvals: unexpected "${extra.join(' ')}"`);
  const dataDir = await dataDirOf(values);
  if (sub === 'list') {
    const list = await ownerCall<PendingConsentView[]>(dataDir, 'GET', '/api/consents');
    write(values.json ? JSON.stringify(list, null, 2) + '\n' : formatPending(list));
    return 0;
  }
  if (sub !== 'approve' && sub !== 'deny') {
    throw usageError(`approvals: unknown subcommand "${sub}" (list, approve ID, deny ID)`);
  }
  if (!id) throw usageError(`approvals ${sub}: give the request id (see "cortex-gateway approvals")`);
  if (sub === 'deny') {
    if (values.scope) throw usageError('approvals deny: --scope applies to approve only');
    await ownerCall(dataDir, 'POST', `/api/consents/${encodeURIComponent(id)}`, { decision: 'deny', scopes: [] });
    write(`Denied ${id}.\n`);
    return 0;
  }
  // Without --scope the owner grants what was asked for; with it, exactly those (possibly fewer).
  let scopes = (values.scope ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  if (scopes.length === 0) {
    const list = await ownerCall<PendingConsentView[]>(dataDir, 'GET', '/api/consents');
    const pending = list.find((p) => p.id === id);
    if (!pending) throw new GatewayError('not_found', `no pending request with id ${id}`);
    scopes = pending.requestedScopes;
    if (scopes.length === 0) {
      // Granting everything by default to a client from the internet is too generous: ask.
      const available = await ownerCall<ScopeView[]>(dataDir, 'GET', '/api/scopes');
      throw usageError(
        `approvals approve: this sign-in names no scope; choose with --scope ` +
          `(available: ${available.map((v) => v.scope).join(' ') || 'none, no server is configured'})`,
      );
    }
  }
  await ownerCall(dataDir, 'POST', `/api/consents/${encodeURIComponent(id)}`, { decision: 'approve', scopes });
  write(`Approved ${id}${scopes.length ? ` with ${scopes.join(' ')}` : ' (no scope)'}.\n`);
  return 0;
}

function formatTunnel(status: TunnelStatus): string {
  const lines = [`Tunnel (${status.provider}): ${status.state}`];
  if (status.mcpUrl) lines.push(`  Public MCP URL: ${status.mcpUrl}`);
  if (status.lastError) lines.push(`  Last error:     ${status.lastError}`);
  if (status.restartCount) lines.push(`  Restarts:       ${status.restartCount}`);
  return lines.join('\n') + '\n';
}

/** `tunnel [status] | start | stop` on the running gateway. */
export async function tunnelCommand(args: string[], write: Write): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { scope: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    true,
  );
  const [sub = 'status', ...extra] = positionals;
  if (extra.length) throw usageError(`tunnel: unexpected "${extra.join(' ')}"`);
  const route = { status: 'GET', start: 'POST', stop: 'DELETE' }[sub];
  if (!route) throw usageError(`tunnel: unknown subcommand "${sub}" (status, start, stop)`);
  // Starting a tunnel waits for cloudflared to announce its URL.
  const status = await ownerCall<TunnelStatus>(await dataDirOf(values), route, '/api/tunnel', undefined, 60_000);
  write(values.json ? JSON.stringify(status, null, 2) + '\n' : formatTunnel(status));
  return 0;
}

/**
 * `serve --tunnel`: starts the tunnel, keeps the terminal told of URL changes and of sign-ins that
 * wait for approval (the headless notification), and answers the line to print, or throws why not.
 * `cli` is how the owner types the CLI here, for the approval commands it prints.
 */
export async function startServeTunnel(gateway: Gateway, write: Write, cli = 'cortex-gateway'): Promise<string> {
  let shown: string | undefined;
  gateway.events.on('tunnel-state', (status) => {
    if (status.state === 'running' && shown && status.mcpUrl !== shown) {
      write(`Tunnel restarted with a new public URL: ${status.mcpUrl} (update it in claude.ai)\n`);
      shown = status.mcpUrl;
    } else if (status.state === 'starting' && status.lastError && shown) {
      write(`Tunnel dropped (${status.lastError}); restarting…\n`);
    }
  });
  gateway.events.on('consent-requested', (request) => {
    write(
      `Approval needed: ${request.clientName} (returns to ${request.redirectHost}) asks for ` +
        `${request.requestedScopes.join(' ') || 'no scope'}.\n` +
        `  ${cli} approvals approve ${request.id}    or    ${cli} approvals deny ${request.id}\n`,
    );
  });
  const status = await gateway.tunnel.start();
  if (status.state !== 'running' || !status.mcpUrl) {
    throw new GatewayError('tunnel_failed', `tunnel: ${status.lastError ?? 'it did not start'}`);
  }
  shown = status.mcpUrl;
  return (
    `  Public URL:   ${status.mcpUrl}\n` +
    `                (paste into claude.ai → Settings → Connectors; each sign-in waits for\n` +
    `                 "${cli} approvals approve ID")\n`
  );
}
