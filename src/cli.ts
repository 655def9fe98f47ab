#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendPool } from './backends/pool.js';
import { resolveCliCommand } from './cli-command.js';
import { announceApprovals, approvalsCommand, startServeTunnel, tunnelCommand } from './cli-tunnel.js';
import { clientsCommand, connectCommand, disconnectCommand } from './cli-clients.js';
import { importCommand } from './cli-import.js';
import type { BackendStatus } from './backends/types.js';
import { formatTable, parseCommand, ownerCall } from './cli-common.js';
import { plainSecrets, secretCommand } from './cli-secret.js';
import { loadConfig, withGateway } from './config/load.js';
import { nonLoopbackWarning } from './http/exposure.js';
import { startGatewayInstance } from './gateway-instance.js';
import { createGateway } from './index.js';
import { readRuntimeInfo } from './runtime-file.js';
import { systemClock } from './shared/clock.js';
import { describeError, ERROR_TABLE, GatewayError } from './shared/errors.js';
import { createConsoleLogger, type LogLevel } from './shared/logger.js';
import { writeFileAtomic } from './store/atomic.js';
import type { InstanceLock } from './store/instance-lock.js';
import { openKeyFileSecretStore, type SecretStore } from './store/secrets.js';
import { PRODUCT, VERSION } from './version.js';

/** The help text; `command` is how this CLI is typed here (resolveCliCommand). */
const usage = (command: string) => `Usage: ${command} <command> [options]

Commands:
  serve      Run the gateway: one MCP endpoint for all configured servers
             --config FILE     config file (default: <data-dir>/cortex.config.json)
             --data-dir DIR    data folder (default: per-OS application data folder)
             --port N          port to listen on; 0 picks a free one (default 3590)
             --host H          address to bind (default 127.0.0.1)
             --ready-file F    when ready, write {"mcpUrl","consoleUrl","pid"} to F
             --log-level L     debug | info | warn | error (default info)
             --tunnel          also start the public tunnel (cloudflared) and print its URL
  backends   List backends with their state (from the running gateway, or by probing them)
             --config, --data-dir as above; --json for machine-readable output; --timeout MS
  token create --scope S [--scope S…] [--ttl 30d] [--name N]
             Print a personal access token for scripts and clients without OAuth ("*" = every scope)
  token list | token revoke ID
             Personal access tokens of the running gateway
  login      Print a new one-time sign-in link to the running gateway's console
  approvals [list] | approvals approve CODE [--scope S…] | approvals deny CODE
             Sign-ins waiting for the owner, each with the code its browser shows (approve
             grants read access to what was asked unless --scope says which scopes)
  tunnel [status|start|stop]
             The running gateway's public tunnel (for claude.ai connectors)
  clients    MCP client apps found here (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf,
             Gemini CLI): installed? connected to this gateway? config file. --json
  connect <client> [--url URL]
             Add the gateway to that app's MCP config (a backup of the file is kept next to it);
             URL: the running gateway's, else http://127.0.0.1:<configured port>/mcp
  disconnect <client>
             Remove only the gateway's entry from that app's MCP config
  import <client> [--only a,b] [--replace] [--dry-run]
             Add the servers configured in that app as gateway backends (credentials go to
             the secret store); --replace also switches the app to the gateway entry (its
             config is backed up first); --dry-run shows what would happen. --json
  secret set <server> <NAME> [--header]
             Store a server's environment variable (or header) in the encrypted secret store;
             the value is read from standard input, the config file gets a reference
  secret seal [server…]
             Move credential-looking values written in the config file into the secret store
  help       Show this help
  version    Print the version
`;

/** Everything on standard input (a piped secret); empty when it is a terminal nobody types into. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** How the user types this CLI here: printed in help, the serve banner, the sign-in pages and the console. */
function typedCommand(): Promise<string> {
  return resolveCliCommand({
    entry: fileURLToPath(import.meta.url),
    // Run by the desktop app's launcher: the app's executable in Node mode, not node.
    ...(process.versions.electron ? { executable: process.execPath } : {}),
    platform: process.platform,
    env: process.env,
    home: homedir(),
  });
}

/** A failure the user should read as one line, then exit non-zero. */
class CliError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'backends':
      return backends(rest);
    case 'token':
      return token(rest);
    case 'login':
      return login(rest);
    case 'approvals':
      return approvalsCommand(rest, (text) => process.stdout.write(text), await typedCommand());
    case 'tunnel':
      return tunnelCommand(rest, (text) => process.stdout.write(text));
    case 'clients':
      return clientsCommand(rest, (text) => process.stdout.write(text));
    case 'connect':
      return connectCommand(
        rest,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    case 'disconnect':
      return disconnectCommand(rest, (text) => process.stdout.write(text));
    case 'secret':
      return secretCommand(
        rest,
        (text) => process.stdout.write(text),
        () => readStdin(),
      );
    case 'import':
      return importCommand(
        rest,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage(await typedCommand()));
      return 0;
    default:
      throw new CliError(`unknown command "${command}" (try: ${await typedCommand()} help)`);
  }
}

/** The option values of a command (positionals refused unless asked for). */
function parse(
  args: string[],
  extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {},
  positionals = false,
) {
  return parseCommand(args, extra, positionals).values as Record<string, string | string[] | boolean | undefined>;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new CliError(`--port: must be an integer 0-65535, got "${value}"`);
  return port;
}

function consoleDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // Bundled dist/cortex-gateway.mjs → dist/renderer; src/cli.ts run through tsx → dist/renderer.
  for (const candidate of [resolve(here, 'renderer'), resolve(here, '../dist/renderer')]) {
    if (existsSync(resolve(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

async function serve(args: string[]): Promise<number> {
  const flags = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'ready-file': { type: 'string' },
    'log-level': { type: 'string' },
    tunnel: { type: 'boolean' },
  });
  const level = (flags['log-level'] as string | undefined) ?? process.env.CORTEX_LOG_LEVEL ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new CliError(`--log-level: must be debug, info, warn or error, got "${level}"`);
  }
  const logger = createConsoleLogger({ level: level as LogLevel });
  const loaded = await loadConfig({
    ...(typeof flags.config === 'string' ? { configPath: flags.config } : {}),
    ...(typeof flags['data-dir'] === 'string' ? { dataDir: flags['data-dir'] } : {}),
    createIfMissing: true,
  });
  let config = loaded.config;
  const gateway = { ...config.gateway };
  if (typeof flags.port === 'string') gateway.port = parsePort(flags.port);
  if (typeof flags.host === 'string') gateway.host = flags.host;
  config = withGateway(config, gateway);
  const explicitPort = loaded.explicitPort || typeof flags.port === 'string';

  await mkdir(loaded.dataDir, { recursive: true, mode: 0o700 });
  const dir = consoleDir();
  const cliCommand = await typedCommand();

  let held: InstanceLock | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C means "now": children were already asked to exit.
      held?.releaseSync();
      process.exit(130);
    }
    logger.info(`received ${signal}, stopping`);
    stopping = (async () => {
      // A signal during start-up waits for it, then undoes it (a failed start has undone itself).
      const started = await starting.catch(() => undefined);
      await started?.stop();
    })();
    stopping.then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`cortex-gateway: error while stopping: ${describeError(error)}\n`);
        process.exit(1);
      },
    );
  };
  // One gateway per data folder: the lock is taken first, and a second serve is refused (non-zero
  // exit, naming the running one) before it opens a store, listens or spawns a backend.
  const starting = startGatewayInstance({
    dataDir: loaded.dataDir,
    app: 'cli',
    logger,
    create: async (lock) => {
      held = lock;
      // Opened now so a damaged secrets file stops start-up with its path, not each backend later.
      const secretStore = await openKeyFileSecretStore(loaded.dataDir);
      const plain = plainSecrets(config.backends);
      if (plain.length > 0) {
        // Not an error (Claude Desktop's format has them in plain text), but the owner should know.
        logger.warn(
          `${loaded.configPath} holds credential-looking values in plain text (${plain.join(', ')}); ` +
            `"${cliCommand} secret seal" moves them to the encrypted secret store`,
        );
      }
      return createGateway(config, {
        logger,
        secretStore,
        env: process.env,
        dataDir: loaded.dataDir,
        configPath: loaded.configPath,
        portFallback: !explicitPort,
        cliCommand,
        ...(dir ? { consoleDir: dir } : {}),
      });
    },
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  const instance = await starting;
  const { gateway: running, address } = instance;
  if (explicitPort === false && address.port !== config.gateway.port) {
    logger.warn(`port ${config.gateway.port} was busy; listening on ${address.port} instead`);
  }
  const exposed = nonLoopbackWarning(config.gateway.host, cliCommand);
  if (exposed) logger.warn(exposed);
  // Each sign-in waiting for approval is printed here (the headless notification), with its code.
  announceApprovals(running, (text) => process.stdout.write(text), cliCommand);
  let tunnelLine = '';
  if (flags.tunnel) {
    try {
      tunnelLine = await startServeTunnel(running, (text) => process.stdout.write(text), cliCommand);
    } catch (error) {
      await instance.stop();
      throw error;
    }
  }
  const publicMcpUrl = running.tunnel.status().mcpUrl;
  const readyFile = flags['ready-file'];
  if (typeof readyFile === 'string') {
    await writeFileAtomic(
      resolve(readyFile),
      JSON.stringify({
        mcpUrl: address.mcpUrl,
        consoleUrl: address.consoleUrl,
        pid: process.pid,
        ...(publicMcpUrl ? { publicMcpUrl } : {}),
      }) + '\n',
      0o644,
      { durable: false },
    );
  }
  process.stdout.write(
    `Cortex Gateway ${VERSION} is running.\n` +
      `  MCP endpoint: ${address.mcpUrl}\n` +
      (dir
        ? `  Console:      ${running.consoleLoginUrl()}\n` +
          `                (a one-time sign-in link; "${cliCommand} login" prints a new one)\n`
        : `  Console:      not built here (run "npm run build"); the MCP endpoint works without it\n`) +
      tunnelLine +
      `  Config:       ${loaded.configPath} (${config.backends.length} backend${config.backends.length === 1 ? '' : 's'})\n` +
      `Press Ctrl-C to stop.\n`,
  );
  return new Promise<number>(() => {
    // Runs until a signal arrives; shutdown() exits the process.
  });
}

async function backends(args: string[]): Promise<number> {
  const flags = parse(args, { json: { type: 'boolean' }, timeout: { type: 'string' } });
  const loaded = await loadConfig({
    ...(typeof flags.config === 'string' ? { configPath: flags.config } : {}),
    ...(typeof flags['data-dir'] === 'string' ? { dataDir: flags['data-dir'] } : {}),
  });
  const timeoutMs = typeof flags.timeout === 'string' ? Number(flags.timeout) : 15_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout: must be a positive number of ms');

  let statuses: BackendStatus[] | undefined;
  let source = '';
  const running = await readRuntimeInfo(loaded.dataDir);
  if (running) {
    try {
      const response = await fetch(new URL('/api/backends', running.mcpUrl), {
        headers: { authorization: `Bearer ${running.ownerToken}` },
        signal: AbortSignal.timeout(5_000),
      });
      if (response.ok) {
        statuses = ((await response.json()) as { value: BackendStatus[] }).value;
        source = `running gateway (pid ${running.pid}, ${running.mcpUrl})`;
      }
    } catch {
      // Fall back to probing below.
    }
  }
  if (!statuses) {
    statuses = await probe(loaded, timeoutMs, await openKeyFileSecretStore(loaded.dataDir));
    source = `probe (no gateway running for ${loaded.dataDir})`;
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(statuses, null, 2) + '\n');
  } else {
    process.stdout.write(formatStatuses(statuses, source));
  }
  return 0;
}

/** "90s", "30m", "12h", "30d" or plain seconds. */
function parseTtl(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new CliError(`--ttl: use a number with s, m, h or d (e.g. 1h, 30d), got "${value}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function login(args: string[]): Promise<number> {
  const flags = parse(args);
  const dataDir =
    typeof flags['data-dir'] === 'string'
      ? resolve(flags['data-dir'])
      : (
          await loadConfig({
            ...(typeof flags.config === 'string' ? { configPath: flags.config } : {}),
            createIfMissing: true,
          })
        ).dataDir;
  const { url } = (await ownerCall(dataDir, 'POST', '/api/login-links')) as { url: string };
  process.stdout.write(`${url}\n`);
  return 0;
}

async function token(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const flags = parse(
    rest,
    {
      scope: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
    },
    sub === 'revoke',
  );
  // parseArgs above accepts the positional id of "revoke"; it is read from rest[0] below.
  const dataDir =
    typeof flags['data-dir'] === 'string'
      ? resolve(flags['data-dir'])
      : (
          await loadConfig({
            ...(typeof flags.config === 'string' ? { configPath: flags.config } : {}),
            createIfMissing: true,
          })
        ).dataDir;
  if (sub === 'create') {
    const scopes = (flags.scope as string[] | undefined) ?? [];
    if (scopes.length === 0)
      throw new CliError('token create: give at least one --scope (e.g. --scope mcp:github:read, or --scope "*")');
    const created = (await ownerCall(dataDir, 'POST', '/api/tokens', {
      name: typeof flags.name === 'string' ? flags.name : 'cli token',
      scopes: scopes.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean),
      ttlSeconds: typeof flags.ttl === 'string' ? parseTtl(flags.ttl) : 30 * 86400,
    })) as { id: string; token: string; expiresAt: number };
    if (flags.json) process.stdout.write(JSON.stringify(created) + '\n');
    else process.stdout.write(`${created.token}\n`);
    process.stderr.write(
      `Token ${created.id} expires ${new Date(created.expiresAt).toISOString()}. It is shown only once.\n`,
    );
    return 0;
  }
  if (sub === 'list') {
    const list = (await ownerCall(dataDir, 'GET', '/api/tokens')) as Array<{
      id: string;
      name: string;
      scopes: string[];
      expiresAt: number;
      revokedAt?: number;
    }>;
    if (flags.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    else
      for (const t of list)
        process.stdout.write(
          `${t.id}  ${t.name}  ${t.scopes.join(' ')}  ${t.revokedAt ? 'revoked' : `expires ${new Date(t.expiresAt).toISOString()}`}\n`,
        );
    return 0;
  }
  if (sub === 'revoke') {
    const id = rest[0] && !rest[0].startsWith('-') ? rest[0] : undefined;
    if (!id) throw new CliError('token revoke: give the token id (see "cortex-gateway token list")');
    await ownerCall(dataDir, 'DELETE', `/api/tokens/${encodeURIComponent(id)}`);
    process.stdout.write(`revoked ${id}\n`);
    return 0;
  }
  throw new CliError('usage: cortex-gateway token create|list|revoke (try: cortex-gateway help)');
}

/** Starts every backend once, waits until none is still connecting (or the timeout), and reports. */
async function probe(
  { config, dataDir, configPath }: { config: Parameters<typeof createGateway>[0]; dataDir: string; configPath: string },
  timeoutMs: number,
  secrets: SecretStore,
): Promise<BackendStatus[]> {
  const pool = new BackendPool({
    config,
    secrets,
    // The backends start where the gateway would start them (their folder in the data folder).
    dataDir,
    configDir: dirname(configPath),
    logger: createConsoleLogger({ level: 'error' }),
    clock: systemClock,
    clientInfo: { name: PRODUCT, version: VERSION },
  });
  try {
    pool.start();
    const deadline = Date.now() + timeoutMs;
    const settled = () => pool.statuses().every((s) => s.state !== 'connecting');
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return pool.statuses();
  } finally {
    await pool.stop();
  }
}

function formatStatuses(statuses: readonly BackendStatus[], source: string): string {
  if (statuses.length === 0) return `No backends configured (${source}).\n`;
  const rows = statuses.map((s) => [
    s.name,
    s.kind,
    s.state,
    String(s.toolCount),
    s.latencyMs === undefined ? '-' : `${s.latencyMs} ms`,
    String(s.restartCount),
    s.lastError ?? '',
  ]);
  const header = ['NAME', 'TYPE', 'STATE', 'TOOLS', 'LATENCY', 'RESTARTS', 'LAST ERROR'];
  return [`Backends from ${source}:`, ...formatTable(header, rows)].join('\n') + '\n';
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof CliError || error instanceof GatewayError ? error.message : describeError(error);
    const field =
      error instanceof GatewayError && error.field && !message.includes(error.field) ? `${error.field}: ` : '';
    process.stderr.write(`cortex-gateway: ${field}${message}\n`);
    process.exit(error instanceof GatewayError ? ERROR_TABLE[error.code].exit : 1);
  },
);
