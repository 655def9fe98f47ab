/** `cortex-gateway backends`: each backend's state, from the running gateway or by probing them. */
import { dirname } from 'node:path';
import { BackendPool } from '../../backends/pool.js';
import type { BackendStatus } from '../../backends/types.js';
import type { LoadedConfig } from '../../config/load.js';
import { systemClock } from '../../shared/clock.js';
import { createConsoleLogger } from '../../shared/logger.js';
import { openKeyFileSecretStore, type SecretStore } from '../../store/secrets.js';
import { PRODUCT, VERSION } from '../../version.js';
import { formatTable, locateGateway, parseCommand, usageError, type CliCommand } from '../common.js';

/** Starts every backend once, waits until none is still connecting (or the timeout), and reports. */
async function probe(
  { config, dataDir, configPath }: LoadedConfig,
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
    instancesCell(s.clientInstances),
    String(s.toolCount),
    s.latencyMs === undefined ? '-' : `${s.latencyMs} ms`,
    String(s.restartCount),
    s.lastError ?? '',
  ]);
  const header = ['NAME', 'TYPE', 'STATE', 'INSTANCES', 'TOOLS', 'LATENCY', 'RESTARTS', 'LAST ERROR'];
  return [`Backends from ${source}:`, ...formatTable(header, rows)].join('\n') + '\n';
}

/**
 * A `per-client` backend runs one instance per client on top of the shared one (which lists the
 * catalog): the count of those running, as the console's Servers page says it. A shared backend
 * is its one instance, shown as "-" so the column stands out only where it means something.
 */
function instancesCell(clientInstances: number | undefined): string {
  return clientInstances === undefined ? '-' : `per client: ${clientInstances}`;
}

export const backendsCommand: CliCommand = {
  name: 'backends',
  usage: 'backends [--json] [--timeout MS]',
  summary: 'List backends with their state (from the running gateway, or by probing them)',
  async run(args, io) {
    const { values: flags } = parseCommand(args, { json: { type: 'boolean' }, timeout: { type: 'string' } });
    const { loaded, running } = await locateGateway(flags, 'required');
    const timeoutMs = flags.timeout !== undefined ? Number(flags.timeout) : 15_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw usageError('--timeout: must be a positive number of ms', '--timeout');
    }
    let statuses: BackendStatus[] | undefined;
    let source = '';
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
    io.out(flags.json ? JSON.stringify(statuses, null, 2) + '\n' : formatStatuses(statuses, source));
    return 0;
  },
};
