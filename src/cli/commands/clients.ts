/**
 * `cortex-gateway clients`: the MCP client apps found here; and what `connect` and `disconnect`
 * share with it (the gateway's URL, the client argument). The CLI side of src/clients.
 */
import { CLIENT_IDS, detectClients, fallbackPortWarning, getClient, type ClientAppId } from '../../clients/index.js';
import type { ClientChangeView, ClientConnectionView } from '../../clients/index.js';
import {
  configuredMcpUrl,
  DEFAULT_GATEWAY,
  formatTable,
  locateGateway,
  parseCommand,
  usageError,
  type CliCommand,
} from '../common.js';

export const CLIENT_OPTIONS = { url: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The client ids, as help and errors list them. */
export const clientNames = () => CLIENT_IDS.join(', ');

/**
 * The MCP URL clients should use, with what the owner should know about it: `--url`, else the
 * running gateway's (its runtime file), else the configured port on loopback. The running one wins
 * because the default port falls back to the next free one when busy.
 */
export async function gatewayUrl(
  values: Record<string, string | boolean | undefined>,
): Promise<{ url: string; warnings: string[] }> {
  if (typeof values.url === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(values.url);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw usageError(`--url: must be an absolute http(s) URL, got "${values.url}"`);
    }
    return { url: url.href, warnings: [] };
  }
  const { loaded, running } = await locateGateway(values, 'optional');
  const gateway = loaded?.config.gateway ?? DEFAULT_GATEWAY;
  if (running) {
    const warning = fallbackPortWarning(Number(new URL(running.mcpUrl).port), gateway.port);
    return { url: running.mcpUrl, warnings: warning ? [warning] : [] };
  }
  if (gateway.port === 0) {
    throw usageError('gateway.port is 0 (a new port at every start): start the gateway first, or give --url');
  }
  return { url: configuredMcpUrl(gateway), warnings: [] };
}

function formatClients(views: readonly ClientConnectionView[], url: string): string {
  const yesNo = (value: boolean) => (value ? 'yes' : 'no');
  const rows = views.map((v) => [
    v.client,
    yesNo(v.installed),
    v.error ? 'unreadable' : v.connected ? 'yes' : v.entryUrl ? `other URL (${v.entryUrl})` : 'no',
    v.configPath + (v.configExists ? '' : ' (not yet created)'),
  ]);
  const errors = views.filter((v) => v.error).map((v) => `  ${v.client}: ${v.error}`);
  return (
    [
      `Clients of ${url}:`,
      ...formatTable(['CLIENT', 'INSTALLED', 'CONNECTED', 'CONFIG'], rows),
      ...(errors.length ? ['Problems:', ...errors] : []),
    ].join('\n') + '\n'
  );
}

export function formatChange(change: ClientChangeView): string {
  const lines = [change.message, `  Config: ${change.configPath}`];
  if (change.backupPath) lines.push(`  Backup: ${change.backupPath}`);
  return lines.join('\n') + '\n';
}

/** The one client a command names, checked against the adapter table. */
export function clientArgument(positionals: string[], command: string): ClientAppId {
  const [client, ...extra] = positionals;
  if (!client) throw usageError(`${command}: name the client, one of: ${clientNames()}`);
  if (extra.length) throw usageError(`${command}: unexpected argument "${extra[0]}"`);
  return getClient(client).id;
}

export const clientsCommand: CliCommand = {
  name: 'clients',
  usage: 'clients',
  summary: 'MCP client apps found here: installed? connected to this gateway? config file. --json',
  details: [`(${clientNames()})`],
  async run(args, io) {
    const { values } = parseCommand(args, CLIENT_OPTIONS, false);
    const { url } = await gatewayUrl(values);
    const views = await detectClients(url);
    io.out(values.json ? JSON.stringify(views, null, 2) + '\n' : formatClients(views, url));
    return 0;
  },
};
