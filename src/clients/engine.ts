import { constants, existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, GatewayError } from '../shared/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { fileSystemError } from '../store/fs-errors.js';
import { CLIENTS } from './adapters/index.js';
import { CLIENT_IDS } from './ids.js';
import { JsoncSyntaxError, NotAnObjectError, readObject, removeEntry, setEntry, type JsonValue } from './jsonc.js';
import { clientEnvironment, type ClientAdapter, type ClientAppId, type ClientEnvironment } from './types.js';
import type { ClientChangeView, ClientConnectionView } from './views.js';

/** The name of our entry in every client's server list. */
export const ENTRY_NAME = 'cortex-gateway';

export { CLIENTS };

/** The adapter of `id`, or `not_found` listing the ids there are. */
export function getClient(id: string): ClientAdapter {
  const adapter = CLIENTS.find((c) => c.id === id);
  if (!adapter) {
    throw new GatewayError('not_found', `unknown client "${id}"; one of: ${CLIENT_IDS.join(', ')}`, {
      field: 'client',
    });
  }
  return adapter;
}

export interface EngineOptions {
  environment?: ClientEnvironment;
  /** Time used in backup names. */
  now?: () => Date;
}

interface Located {
  adapter: ClientAdapter;
  configPath: string;
  installed: boolean;
  configExists: boolean;
}

function locate(client: ClientAppId | ClientAdapter, environment: ClientEnvironment): Located {
  const adapter = typeof client === 'string' ? getClient(client) : client;
  const configPath = adapter.configPath(environment, existsSync);
  const configExists = existsSync(configPath);
  const installed = configExists || adapter.installMarkers(environment).some((marker) => existsSync(marker));
  return { adapter, configPath, installed, configExists };
}

/** The file's text, or undefined if there is none. */
async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayError('client_config_invalid', `${path}: cannot read: ${describeError(error)}`, { cause: error });
  }
}

/** Parse failures name the file and say it was not touched. */
function unreadable(path: string, error: unknown): GatewayError {
  if (error instanceof JsoncSyntaxError) {
    return new GatewayError(
      'client_config_invalid',
      `${path}: not valid JSON (${error.message}); the file was left untouched. Fix it (or move it away), then try again.`,
      { cause: error },
    );
  }
  if (error instanceof NotAnObjectError) {
    return new GatewayError(
      'client_config_invalid',
      `${path}: ${error.message}, so servers cannot be added to it; the file was left untouched.`,
      { cause: error },
    );
  }
  return error instanceof GatewayError ? error : new GatewayError('internal', describeError(error), { cause: error });
}

/** Writes go to the real file behind a symlink (dotfile managers), not over the link. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `2026-11-25T12-55-16-123Z`: sortable, and valid in Windows file names. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

export interface ServerEdits {
  /** Entries to add or replace, by name. */
  set?: Record<string, JsonValue>;
  /** Entries to remove, by name. */
  remove?: string[];
}

export interface EditOutcome {
  configPath: string;
  changed: boolean;
  backupPath?: string;
}

/**
 * Changes named entries of a client's server list and nothing else: parse, back up the original
 * next to it, splice only those entries, write atomically. An unparseable file is never written.
 * The client must be installed; its config folder is created if missing.
 */
export async function editClientServers(
  client: ClientAppId | ClientAdapter,
  edits: ServerEdits,
  options: EngineOptions = {},
): Promise<EditOutcome> {
  const environment = options.environment ?? clientEnvironment();
  const now = options.now ?? (() => new Date());
  const located = locate(client, environment);
  const { adapter, configPath } = located;
  if (!located.installed) {
    throw new GatewayError(
      'client_not_installed',
      `${adapter.name} does not seem to be installed here (none of ${[configPath, ...adapter.installMarkers(environment)].join(', ')} exists); nothing was written.`,
    );
  }
  const target = realPath(configPath);
  // Apps such as Claude Code rewrite their file themselves: if it changes between our read and our
  // write, start again from the new content rather than overwrite theirs.
  for (let attempt = 0; attempt < 3; attempt++) {
    const original = await readText(target);
    let text = original ?? '';
    try {
      for (const [name, value] of Object.entries(edits.set ?? {}))
        text = setEntry(text, adapter.serversKey, name, value);
      for (const name of edits.remove ?? []) text = removeEntry(text, adapter.serversKey, name);
    } catch (error) {
      throw unreadable(configPath, error);
    }
    if (text === (original ?? '')) return { configPath, changed: false };

    let backupPath: string | undefined;
    let mode = 0o600;
    if (original === undefined) {
      await mkdir(dirname(target), { recursive: true });
    } else {
      mode = (await stat(target)).mode & 0o777;
      backupPath = `${target}.${stamp(now())}.bak`;
      try {
        await copyFile(target, backupPath, constants.COPYFILE_EXCL);
      } catch (error) {
        // A backup the disk could only half take is no backup: remove it, and say why.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(backupPath, { force: true });
        throw fileSystemError(error, backupPath);
      }
    }
    if ((await readText(target)) !== original) {
      if (backupPath) await rm(backupPath, { force: true });
      continue;
    }
    await writeFileAtomic(target, text, mode);
    return { configPath, changed: true, ...(backupPath ? { backupPath } : {}) };
  }
  throw new GatewayError('client_config_invalid', `${configPath} kept changing while it was being edited; try again.`);
}

/** The servers a client already has, except our own entry (for import). A missing file has none. */
export async function listClientServers(
  client: ClientAppId | ClientAdapter,
  options: EngineOptions = {},
): Promise<{ configPath: string; servers: Record<string, JsonValue> }> {
  const environment = options.environment ?? clientEnvironment();
  const { adapter, configPath } = locate(client, environment);
  const text = await readText(configPath);
  let servers: Record<string, JsonValue> | undefined;
  try {
    servers = text === undefined ? undefined : readObject(text, adapter.serversKey);
  } catch (error) {
    throw unreadable(configPath, error);
  }
  const { [ENTRY_NAME]: _ours, ...others } = servers ?? {};
  return { configPath, servers: others };
}

/** Installed? Connected to `gatewayUrl`? Never throws for a broken file: it is reported in `error`. */
export async function detectClient(
  client: ClientAppId | ClientAdapter,
  gatewayUrl: string,
  options: EngineOptions = {},
): Promise<ClientConnectionView> {
  const environment = options.environment ?? clientEnvironment();
  const { adapter, configPath, installed, configExists } = locate(client, environment);
  const view: ClientConnectionView = {
    client: adapter.id,
    name: adapter.name,
    installed,
    configPath,
    configExists,
    connected: false,
  };
  if (!configExists) return view;
  try {
    const text = (await readText(configPath)) ?? '';
    const entry = readObject(text, adapter.serversKey)?.[ENTRY_NAME];
    const entryUrl = entry === undefined ? undefined : adapter.entryUrl(entry);
    if (entryUrl !== undefined) view.entryUrl = entryUrl;
    view.connected = entryUrl === gatewayUrl;
  } catch (error) {
    view.error = unreadable(configPath, error).message;
  }
  return view;
}

export function detectClients(gatewayUrl: string, options: EngineOptions = {}): Promise<ClientConnectionView[]> {
  return Promise.all(CLIENTS.map((adapter) => detectClient(adapter, gatewayUrl, options)));
}

/** Adds (or points at `url`) our entry in the client's config. Running it twice changes nothing. */
export async function connectClient(
  client: ClientAppId | ClientAdapter,
  url: string,
  options: EngineOptions = {},
): Promise<ClientChangeView> {
  const environment = options.environment ?? clientEnvironment();
  const adapter = typeof client === 'string' ? getClient(client) : client;
  const entry = await adapter.entry(url, environment);
  const outcome = await editClientServers(adapter, { set: { [ENTRY_NAME]: entry.value } }, { ...options, environment });
  return {
    client: adapter.id,
    configPath: outcome.configPath,
    changed: outcome.changed,
    ...(outcome.backupPath ? { backupPath: outcome.backupPath } : {}),
    message: outcome.changed
      ? `${adapter.name} now uses the gateway at ${url}. ${adapter.afterConnect}`
      : `${adapter.name} was already connected to ${url}; nothing changed.`,
    warnings: entry.warnings,
  };
}

/** Removes our entry, and only it. A client without the entry (or without a config) is left as is. */
export async function disconnectClient(
  client: ClientAppId | ClientAdapter,
  options: EngineOptions = {},
): Promise<ClientChangeView> {
  const environment = options.environment ?? clientEnvironment();
  const located = locate(client, environment);
  const { adapter } = located;
  const outcome = located.configExists
    ? await editClientServers(adapter, { remove: [ENTRY_NAME] }, { ...options, environment })
    : { configPath: located.configPath, changed: false };
  return {
    client: adapter.id,
    configPath: outcome.configPath,
    changed: outcome.changed,
    ...('backupPath' in outcome && outcome.backupPath ? { backupPath: outcome.backupPath } : {}),
    message: outcome.changed
      ? `Removed the ${ENTRY_NAME} entry from ${adapter.name}'s config; restart ${adapter.name} for it to take effect.`
      : `${adapter.name} has no ${ENTRY_NAME} entry; nothing changed.`,
    warnings: [],
  };
}

/**
 * When the gateway listens on a fallback port because its configured one was busy, an app
 * connected now points at a port the next start may not get: say so, and what to do.
 */
export function fallbackPortWarning(listeningPort: number, configuredPort: number): string | undefined {
  if (configuredPort === 0 || listeningPort === configuredPort) return undefined;
  return (
    `the gateway listens on port ${listeningPort} because port ${configuredPort} was busy at its start; ` +
    `this app will lose it when a later start gets ${configuredPort} back. ` +
    `Set gateway.port to a port that stays free, restart, and connect again.`
  );
}

/** The owner API's view of the client apps, connected to the gateway's own MCP URL by default. */
export function createClientConnections(mcpUrl: () => string, options: EngineOptions = {}) {
  return {
    list: () => detectClients(mcpUrl(), options),
    connect: (client: string, url?: string) => connectClient(getClient(client), url ?? mcpUrl(), options),
    disconnect: (client: string) => disconnectClient(getClient(client), options),
  };
}
