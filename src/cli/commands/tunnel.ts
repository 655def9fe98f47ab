/**
 * `cortex-gateway tunnel …`: the running gateway's public tunnel, through its owner API; and
 * `serve --tunnel`, which starts it with the gateway.
 */
import type { TunnelStatus } from '../../api/contract.js';
import type { Gateway } from '../../index.js';
import { GatewayError } from '../../shared/errors.js';
import { locateGateway, ownerCall, parseCommand, usageError, type CliCommand, type Write } from '../common.js';

function formatTunnel(status: TunnelStatus): string {
  const lines = [`Tunnel (${status.provider}): ${status.state}`];
  if (status.mcpUrl) lines.push(`  Public MCP URL: ${status.mcpUrl}`);
  if (status.lastError) lines.push(`  Last error:     ${status.lastError}`);
  if (status.restartCount) lines.push(`  Restarts:       ${status.restartCount}`);
  return lines.join('\n') + '\n';
}

/** `tunnel [status] | start | stop` on the running gateway. */
async function tunnel(args: string[], write: Write): Promise<number> {
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
  const status = await ownerCall<TunnelStatus>(
    await locateGateway(values, 'none'),
    route,
    '/api/tunnel',
    undefined,
    60_000,
  );
  write(values.json ? JSON.stringify(status, null, 2) + '\n' : formatTunnel(status));
  return 0;
}

/**
 * `serve --tunnel`: starts the tunnel, keeps the terminal told of URL changes, and answers the line
 * to print, or throws why not. `cli` is how the owner types the CLI here, for the commands it prints.
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
  const status = await gateway.tunnel.start();
  if (status.state !== 'running' || !status.mcpUrl) {
    throw new GatewayError('tunnel_failed', `tunnel: ${status.lastError ?? 'it did not start'}`);
  }
  shown = status.mcpUrl;
  return (
    `  Public URL:   ${status.mcpUrl}\n` +
    `                (paste into claude.ai → Settings → Connectors; each sign-in waits for\n` +
    `                 "${cli} approvals approve CODE")\n`
  );
}

export const tunnelCommand: CliCommand = {
  name: 'tunnel',
  usage: 'tunnel [status|start|stop]',
  summary: "The running gateway's public tunnel (for claude.ai connectors); --json",
  run: (args, io) => tunnel(args, io.out),
};
