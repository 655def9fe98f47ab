import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { GatewayError } from '../shared/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { configSchema, PORT_MESSAGE, portSchema, type GatewayConfig, type NamedBackendConfig } from './schema.js';

export const CONFIG_FILE_NAME = 'cortex.config.json';

/** Per-OS convention for application data; CORTEX_DATA_DIR wins everywhere. */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  // Empty variables count as unset: XDG_CONFIG_HOME= must not turn into a folder relative to cwd.
  if (env.CORTEX_DATA_DIR) return resolve(env.CORTEX_DATA_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Cortex Gateway');
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Cortex Gateway');
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'cortex-gateway');
}

/**
 * Renders a zod issue path the way a user finds it in the file: `mcpServers.my server.args[1]`; the
 * empty path as `root` (the whole file by default; an owner-API body says `body`).
 */
export function formatPath(path: readonly PropertyKey[], root = '(root)'): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += (out ? '.' : '') + String(part);
  }
  return out || root;
}

/**
 * What is wrong, for a message beside the first issue's field: that issue's reason, then any other
 * issue with its own path (they have no field of their own to carry it).
 */
function describeIssues(error: z.ZodError): string {
  const [first, ...rest] = error.issues;
  const firstText =
    first && first.path.length > 0 ? first.message : first ? `${formatPath(first.path)}: ${first.message}` : '';
  return [firstText, ...rest.map((issue) => `${formatPath(issue.path)}: ${issue.message}`)].join('; ');
}

/**
 * Namespace prefix for a backend: its name with characters outside `[A-Za-z0-9_-]` replaced, capped
 * at 32 characters so a federated `<prefix>__<tool>` keeps room for the tool's own name. A name
 * whose prefix would contain "__" is refused (parseConfig).
 */
export function backendId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
}

/** Validates parsed JSON into the frozen config the core reads. Errors name the JSON path at fault. */
export function parseConfig(input: unknown, source = 'config'): GatewayConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    // The first issue's path is the field the owner API points at; the message lists them all.
    const first = parsed.error.issues[0];
    throw new GatewayError('config_invalid', `${source}: ${describeIssues(parsed.error)}`, {
      ...(first && first.path.length > 0 ? { field: formatPath(first.path) } : {}),
    });
  }
  const seen = new Map<string, string>();
  const backends: NamedBackendConfig[] = [];
  for (const [name, backend] of Object.entries(parsed.data.mcpServers)) {
    const id = backendId(name);
    if (id.includes('__')) {
      // "__" ends the backend's part of a federated name (`<backend>__<tool>`): a backend named
      // "a__b" could take the names of backend "a"'s tools "b__…". Refused, never renamed quietly:
      // the id is also in the scopes clients were granted.
      throw new GatewayError(
        'config_invalid',
        `${source}: backend names may not contain "__" (nor two of "_", "." and space in a row, which become "__"): it separates the backend from the tool in federated names; rename it`,
        { field: `mcpServers.${name}` },
      );
    }
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw new GatewayError(
        'config_invalid',
        `${source}: the name maps to the same namespace "${id}" as "${previous}"; rename one of them`,
        { field: `mcpServers.${name}` },
      );
    }
    seen.set(id, name);
    backends.push(Object.freeze({ ...backend, name, id }));
  }
  const { gateway } = parsed.data;
  if (gateway.restartMaxMs < gateway.restartBaseMs) {
    throw new GatewayError('config_invalid', `${source}: must be at least gateway.restartBaseMs`, {
      field: 'gateway.restartMaxMs',
    });
  }
  if (gateway.receiveTimeoutMs < gateway.headersTimeoutMs) {
    // The headers are part of the request: a shorter whole-request limit would make theirs moot.
    throw new GatewayError('config_invalid', `${source}: must be at least gateway.headersTimeoutMs`, {
      field: 'gateway.receiveTimeoutMs',
    });
  }
  return Object.freeze({ gateway: Object.freeze(gateway), backends: Object.freeze(backends) });
}

export interface LoadConfigOptions {
  configPath?: string;
  dataDir?: string;
  /** Write an empty config at the default location when none exists yet (first run). */
  createIfMissing?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: GatewayConfig;
  configPath: string;
  dataDir: string;
  /** Whether the port was chosen by the user (file or CORTEX_PORT) rather than defaulted. */
  explicitPort: boolean;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? defaultDataDir(process.platform, env));
  const explicit = options.configPath ?? env.CORTEX_CONFIG;
  const configPath = resolve(explicit ?? join(dataDir, CONFIG_FILE_NAME));
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new GatewayError('config_invalid', `${configPath}: cannot read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (explicit !== undefined || !options.createIfMissing) {
      throw new GatewayError('config_not_found', `${configPath}: no such file`);
    }
    text = JSON.stringify({ mcpServers: {} }, null, 2) + '\n';
    // The data folder holds grants and keys: private to the user from the start.
    await mkdir(dirname(configPath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(configPath, text);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('config_invalid', `${configPath}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const config = parseConfig(json, configPath);
  const filePort = (json as { gateway?: { port?: unknown } } | null)?.gateway?.port;
  return {
    config: applyEnvOverrides(config, env),
    configPath,
    dataDir,
    explicitPort: filePort !== undefined || env.CORTEX_PORT !== undefined,
  };
}

/** CORTEX_PORT / CORTEX_HOST override the file, for containers and scripts. */
function applyEnvOverrides(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const gateway = { ...config.gateway };
  if (env.CORTEX_PORT !== undefined) {
    const port = portSchema.safeParse(Number(env.CORTEX_PORT));
    if (!port.success) {
      throw new GatewayError('config_invalid', `${PORT_MESSAGE}, got "${env.CORTEX_PORT}"`, { field: 'CORTEX_PORT' });
    }
    gateway.port = port.data;
  }
  if (env.CORTEX_HOST) gateway.host = env.CORTEX_HOST;
  return withGateway(config, gateway);
}

export function withGateway(config: GatewayConfig, gateway: GatewayConfig['gateway']): GatewayConfig {
  return Object.freeze({ ...config, gateway: Object.freeze({ ...gateway }) });
}
