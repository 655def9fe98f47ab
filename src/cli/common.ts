/**
 * What every CLI command shares: the command shape, argument parsing, where the gateway lives (data
 * folder, config file, the running gateway's runtime file: looked up here once, for every command),
 * calls to the running gateway's owner API, and text tables.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, loadConfig, type LoadedConfig } from '../config/load.js';
import { gatewaySchema, PORT_MESSAGE, portSchema, type GatewaySettings } from '../config/schema.js';
import { readRuntimeInfo, type RuntimeInfo } from '../runtime-file.js';
import { describeError, GatewayError, isGatewayError, isGatewayErrorCode } from '../shared/errors.js';

export type Write = (text: string) => void;

/** What a command is given besides its arguments: the terminal, and how the CLI is typed here. */
export interface CliIo {
  out: Write;
  err: Write;
  /** Everything on standard input (a piped secret); empty on a terminal. */
  readStdin(): Promise<string>;
  /** How the owner types this CLI here (resolveCliCommand), for the commands it prints. */
  cliCommand(): Promise<string>;
  /** The CLI file being run (the bundle, or src/cli/main.ts under tsx). */
  entry: string;
}

/** One row of the command table: `main.ts` dispatches on `name` and prints help from the rest. */
export interface CliCommand {
  name: string;
  /** Other spellings (`--version`, `-v`). */
  aliases?: readonly string[];
  /** How it is typed, after the CLI's own name: `connect <client> [--url URL]`. */
  usage: string;
  /** One line: what it does. */
  summary: string;
  /** Further help lines (options), printed under the summary. */
  details?: readonly string[];
  run(args: string[], io: CliIo): Promise<number>;
}

/** A mistake in how the command was typed: exit 64 (EX_USAGE) through ERROR_TABLE. */
export const usageError = (message: string, field?: string) =>
  new GatewayError('invalid_argument', message, field ? { field } : undefined);

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

const COMMON_OPTIONS = { config: { type: 'string' }, 'data-dir': { type: 'string' } } as const;

/** Strict parsing with `--config` and `--data-dir` for every command; a mistake is a one-line usage error. */
export function parseCommand<const O extends OptionSpec>(args: string[], options: O, positionals = false) {
  try {
    return parseArgs({
      args,
      allowPositionals: positionals,
      strict: true as const,
      options: { ...COMMON_OPTIONS, ...options },
    });
  } catch (error) {
    throw usageError(describeError(error));
  }
}

/**
 * The CLI's port check (`--port`): digits, then the port rule every front-end shares (config/schema.ts).
 */
export function parsePort(value: string, field = '--port'): number {
  // A command-line value is text: digits only (no "1e3", " 80" or "0x50"), then the one port rule.
  const parsed = portSchema.safeParse(/^\d+$/.test(value) ? Number(value) : Number.NaN);
  if (!parsed.success) throw usageError(`${field}: ${PORT_MESSAGE}, got "${value}"`, field);
  return parsed.data;
}

/** The gateway settings when there is no config file yet: the schema's defaults, its one home. */
export const DEFAULT_GATEWAY: GatewaySettings = gatewaySchema.parse({});

/**
 * The MCP URL of a gateway listening as `gateway` says, as a client on this machine reaches it: a
 * wildcard address is reached through loopback, an IPv6 one in brackets.
 */
export function configuredMcpUrl(gateway: Pick<GatewaySettings, 'host' | 'port'>): string {
  const { host, port } = gateway;
  const reach = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}/mcp`;
}

/**
 * How much of the configuration a command needs:
 * - `create`: the config, written empty at the default place on first run (serve, import);
 * - `required`: an existing config (backends, secret);
 * - `optional`: the config if there is one; the defaults say where the gateway will listen (clients);
 * - `none`: only the data folder (owner API calls): `--data-dir` is enough, else the config's.
 */
export type ConfigNeed = 'create' | 'required' | 'optional' | 'none';

/** Where the gateway lives, as the command's options say, and the gateway running there if any. */
export interface GatewayPlace<L extends LoadedConfig | undefined = LoadedConfig | undefined> {
  dataDir: string;
  loaded: L;
  /** The running gateway (its runtime file, its process alive), read once. */
  running: RuntimeInfo | undefined;
}

/**
 * The data folder, config and running gateway named by `--data-dir` / `--config` (or their defaults
 * and CORTEX_* variables), for every command the same way.
 */
export async function locateGateway(
  values: Record<string, unknown>,
  need: 'create' | 'required',
): Promise<GatewayPlace<LoadedConfig>>;
export async function locateGateway(values: Record<string, unknown>, need: 'optional' | 'none'): Promise<GatewayPlace>;
export async function locateGateway(values: Record<string, unknown>, need: ConfigNeed): Promise<GatewayPlace> {
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  const dataDirFlag = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : undefined;
  let loaded: LoadedConfig | undefined;
  if (need === 'none') {
    if (dataDirFlag === undefined) {
      loaded = await loadConfig({ ...(configPath ? { configPath } : {}), createIfMissing: true });
    }
  } else {
    loaded = await loadConfig({
      ...(configPath ? { configPath } : {}),
      ...(dataDirFlag ? { dataDir: dataDirFlag } : {}),
      ...(need === 'create' ? { createIfMissing: true } : {}),
    }).catch((error: unknown) => {
      // No config yet is fine here: the defaults say where the gateway will listen.
      if (need === 'optional' && isGatewayError(error, 'config_not_found') && !configPath) return undefined;
      throw error;
    });
  }
  const dataDir = dataDirFlag ?? loaded?.dataDir ?? defaultDataDir();
  return { dataDir, loaded, running: await readRuntimeInfo(dataDir) };
}

/** The running gateway of `place`, or a `not_running` error that says how to start it. */
export function requireRunning(place: GatewayPlace): RuntimeInfo {
  if (!place.running) {
    throw new GatewayError(
      'not_running',
      `no gateway is running for ${place.dataDir}; start it with "cortex-gateway serve"`,
    );
  }
  return place.running;
}

/**
 * One owner API call to a running gateway; a refusal becomes a GatewayError with the API's message,
 * and its code and field when they are ours (`disk_full` stays `disk_full`, exit 74).
 */
export async function callOwnerApi<T>(
  running: { mcpUrl: string; ownerToken: string },
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<T> {
  const response = await fetch(new URL(path, running.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${running.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const result = (await response.json()) as
    | { ok: true; value: T }
    | { ok: false; error: { code: string; message: string; field?: string } }
    | { ok?: undefined };
  if (result.ok === true) return result.value;
  if (result.ok !== false) throw new GatewayError('internal', `the gateway answered HTTP ${response.status}`);
  const { code, message, field } = result.error;
  // A code this CLI does not know (a newer gateway) is still a refusal of the request.
  throw new GatewayError(isGatewayErrorCode(code) ? code : 'invalid_argument', message, field ? { field } : undefined);
}

/** As callOwnerApi, to the gateway running at `place` (not_running when there is none). */
export function ownerCall<T>(
  place: GatewayPlace,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<T> {
  return callOwnerApi<T>(requireRunning(place), method, path, body, timeoutMs);
}

/** Text columns padded to the widest cell; the last column runs free. Header first, one line per row. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line);
}
