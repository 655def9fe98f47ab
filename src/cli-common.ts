/** What every CLI command shares: argument parsing, the data folder, and calls to the running gateway. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load.js';
import { readRuntimeInfo } from './runtime-file.js';
import { describeError, GatewayError, isGatewayErrorCode } from './shared/errors.js';

export type Write = (text: string) => void;

export const usageError = (message: string) => new GatewayError('invalid_argument', message);

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

/** The data folder named by `--data-dir`, or the one the config resolves to. */
export async function dataDirOf(values: Record<string, unknown>): Promise<string> {
  if (typeof values['data-dir'] === 'string') return resolve(values['data-dir']);
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  return (await loadConfig({ ...(configPath ? { configPath } : {}), createIfMissing: true })).dataDir;
}

/**
 * One owner API call to a running gateway; a refusal becomes a one-line error with the API's
 * message, and its code and field when they are ours (`disk_full` stays `disk_full`).
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
  throw new GatewayError(isGatewayErrorCode(code) ? code : 'invalid_argument', message, field ? { field } : undefined);
}

/** As callOwnerApi, to the gateway running for `dataDir` (found through its runtime file). */
export async function ownerCall<T>(
  dataDir: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<T> {
  const running = await readRuntimeInfo(dataDir);
  if (!running) {
    throw new GatewayError('not_running', `no gateway is running for ${dataDir}; start it with "cortex-gateway serve"`);
  }
  return callOwnerApi<T>(running, method, path, body, timeoutMs);
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
