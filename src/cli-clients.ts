/** `cortex-gateway clients | connect <client> | disconnect <client>`: the CLI side of src/clients. */
import { resolve } from 'node:path';
import type { ClientChangeView, ClientConnectionView } from './api/contract.js';
import {
  CLIENTS,
  connectClient,
  detectClients,
  disconnectClient,
  fallbackPortWarning,
  getClient,
} from './clients/index.js';
import { defaultDataDir, loadConfig } from './config/load.js';
import { formatTable, parseCommand, usageError, type Write } from './cli-common.js';
import { readRuntimeInfo } from './runtime-file.js';
import { isGatewayError } from './shared/errors.js';

const CLIENT_OPTIONS = { url: { type: 'string' }, json: { type: 'boolean' } } as const;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The MCP URL clients should use: `--url`, else the running gateway's (its runtime file), else the
 * configured port on loopback. The running one wins because the default port falls back to the next
 * free one when busy.
 */
/** The MCP URL apps should use, with what the owner should know about it. */
async function gatewayUrl(
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
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  const dataDirFlag = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : undefined;
  const loaded = await loadConfig({
    ...(configPath ? { configPath } : {}),
    ...(dataDirFlag ? { dataDir: dataDirFlag } : {}),
  }).catch((error: unknown) => {
    // No config yet is fine here: the defaults say where the gateway will listen.
    if (isGatewayError(error, 'config_not_found') && !configPath) return undefined;
    throw error;
  });
  const dataDir = dataDirFlag ?? loaded?.dataDir ?? defaultDataDir();
  const running = await readRuntimeInfo(dataDir);
  if (running) {
    const warning = fallbackPortWarning(Number(new URL(running.mcpUrl).port), loaded?.config.gateway.port ?? 3590);
    return { url: running.mcpUrl, warnings: warning ? [warning] : [] };
  }
  const port = loaded?.config.gateway.port ?? 3590;
  if (port === 0) {
    throw usageError('gateway.port is 0 (a new port at every start): start the gateway first, or give --url');
  }
  return { url: `http://${urlHost(loaded?.config.gateway.host ?? '127.0.0.1')}:${port}/mcp`, warnings: [] };
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

function formatChange(change: ClientChangeView): string {
  const lines = [change.message, `  Config: ${change.configPath}`];
  if (change.backupPath) lines.push(`  Backup: ${change.backupPath}`);
  return lines.join('\n') + '\n';
}

function clientArgument(positionals: string[], command: string): string {
  const [client, ...extra] = positionals;
  const names = CLIENTS.map((c) => c.id).join(', ');
  if (!client) throw usageError(`${command}: name the client, one of: ${names}`);
  if (extra.length) throw usageError(`${command}: unexpected argument "${extra[0]}"`);
  getClient(client);
  return client;
}

export async function clientsCommand(args: string[], out: Write): Promise<number> {
  const { values } = parseCommand(args, CLIENT_OPTIONS, false);
  const { url } = await gatewayUrl(values);
  const views = await detectClients(url);
  out(values.json ? JSON.stringify(views, null, 2) + '\n' : formatClients(views, url));
  return 0;
}

export async function connectCommand(args: string[], out: Write, err: Write): Promise<number> {
  const { values, positionals } = parseCommand(args, CLIENT_OPTIONS, true);
  const client = clientArgument(positionals, 'connect');
  const target = await gatewayUrl(values);
  const change = await connectClient(getClient(client), target.url);
  for (const warning of [...target.warnings, ...change.warnings]) err(`warning: ${warning}\n`);
  out(values.json ? JSON.stringify(change, null, 2) + '\n' : formatChange(change));
  return 0;
}

export async function disconnectCommand(args: string[], out: Write): Promise<number> {
  const { values, positionals } = parseCommand(args, CLIENT_OPTIONS, true);
  const change = await disconnectClient(getClient(clientArgument(positionals, 'disconnect')));
  out(values.json ? JSON.stringify(change, null, 2) + '\n' : formatChange(change));
  return 0;
}
