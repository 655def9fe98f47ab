/**
 * `cortex-gateway serve`: runs the gateway headless until a signal, through the lifecycle the
 * desktop app shares (lock, create, start, runtime file, stop).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { withGateway } from '../../config/load.js';
import { startGatewayInstance } from '../../host.js';
import { nonLoopbackWarning } from '../../http/exposure.js';
import { createGateway } from '../../index.js';
import { describeError } from '../../shared/errors.js';
import { createConsoleLogger, type LogLevel } from '../../shared/logger.js';
import { writeFileAtomic } from '../../store/atomic.js';
import type { InstanceLock } from '../../store/instance-lock.js';
import { openKeyFileSecretStore } from '../../store/secrets.js';
import { VERSION } from '../../version.js';
import { locateGateway, parseCommand, parsePort, usageError, type CliCommand, type CliIo } from '../common.js';
import { announceApprovals } from './approvals.js';
import { plainSecrets } from './secret.js';
import { startServeTunnel } from './tunnel.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The built console beside the CLI file being run (`entry`), if there is one. */
function consoleDir(entry: string): string | undefined {
  const here = dirname(entry);
  // Bundled dist/cortex-gateway.mjs → dist/renderer; src/cli/main.ts run through tsx → dist/renderer.
  for (const candidate of [resolve(here, 'renderer'), resolve(here, '../../dist/renderer')]) {
    if (existsSync(resolve(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const { values: flags } = parseCommand(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'ready-file': { type: 'string' },
    'log-level': { type: 'string' },
    tunnel: { type: 'boolean' },
  });
  const level = flags['log-level'] ?? process.env.CORTEX_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw usageError(`--log-level: must be debug, info, warn or error, got "${level}"`, '--log-level');
  }
  const logger = createConsoleLogger({ level: level as LogLevel });
  const { loaded } = await locateGateway(flags, 'create');
  let config = loaded.config;
  const gateway = { ...config.gateway };
  if (flags.port !== undefined) gateway.port = parsePort(flags.port);
  if (flags.host !== undefined) gateway.host = flags.host;
  config = withGateway(config, gateway);
  const explicitPort = loaded.explicitPort || flags.port !== undefined;

  await mkdir(loaded.dataDir, { recursive: true, mode: 0o700 });
  const dir = consoleDir(io.entry);
  const cliCommand = await io.cliCommand();

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
        io.err(`cortex-gateway: error while stopping: ${describeError(error)}\n`);
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
  announceApprovals(running, io.out, cliCommand);
  let tunnelLine = '';
  if (flags.tunnel) {
    try {
      tunnelLine = await startServeTunnel(running, io.out, cliCommand);
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
  io.out(
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

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: 'serve [--port N] [--host H] [--ready-file F] [--log-level L] [--tunnel]',
  summary: 'Run the gateway: one MCP endpoint for all configured servers',
  details: [
    '--config FILE     config file (default: <data-dir>/cortex.config.json)',
    '--data-dir DIR    data folder (default: per-OS application data folder)',
    '--port N          port to listen on; 0 picks a free one (default 3590)',
    '--host H          address to bind (default 127.0.0.1)',
    '--ready-file F    when ready, write {"mcpUrl","consoleUrl","pid"} to F',
    '--log-level L     debug | info | warn | error (default info)',
    '--tunnel          also start the public tunnel (cloudflared) and print its URL',
  ],
  run: serve,
};
