import { readFile, rename, rm } from 'node:fs/promises';
import { GatewayError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { createSerialQueue, type SerialQueue } from '../shared/serial-queue.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { SecretStore } from '../store/secrets.js';
import { fileSystemError } from '../store/fs-errors.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import { parseConfig } from './load.js';
import { PORT_MESSAGE, portSchema, type GatewayConfig } from './schema.js';
import { referencedSecrets, sealSecretInputs, secretReferences } from './secret-refs.js';

/**
 * The one way the config file is changed, by the gateway (owner API, console, import) and by CLI
 * commands that edit it directly. Every edit is one step, run one after another:
 *
 *   read the file fresh → apply the change → validate the whole file → store staged secrets →
 *   keep the previous file as a backup → write atomically → delete secrets no longer referenced →
 *   apply the result (the gateway swaps its config and reconciles its backends)
 *
 * so concurrent edits each work on the result of the previous one and none is lost. Within a
 * process a queue orders them; across processes a lock file beside the config does (file-lock.ts).
 * An edit that cannot apply to the file as it now is (the entry it changes is gone, a secret it
 * keeps was deleted) is refused with `conflict`, never written half-way.
 */

/** How many previous versions of the config file are kept beside it: `<file>.1.bak` (newest) … `<file>.5.bak`. */
export const CONFIG_BACKUPS = 5;

export const backupPath = (path: string, generation: number) => `${path}.${generation}.bak`;

/** The config file as JSON, every key kept (Claude Desktop settings and others we do not know). */
export type ConfigObject = Record<string, unknown>;

/** The result of an edit, handed to `apply` and to the caller. */
export interface ConfigEdit {
  /** The configuration the file now holds. */
  config: GatewayConfig;
  /**
   * Backends whose secret values changed: their config may look the same (same references), but
   * they must restart to get the new values.
   */
  secretsChanged: string[];
  /** False when the change left the file's text as it was: nothing was written, no backup kept. */
  written: boolean;
}

/** A change to the `gateway` settings the owner may make at run time. */
export interface GatewaySettingsChange {
  port?: number;
  tunnel?: { provider?: 'cloudflare' | 'ngrok'; domain?: string | null; autostart?: boolean };
}

export interface ConfigEditorOptions {
  path: string;
  /** Where `{ "secret": … }` values go; references in the file name them. */
  secrets: SecretStore;
  /**
   * Run inside each edit's turn after the file is written, before the next edit starts: the
   * gateway swaps its in-memory config and applies it live here, so the order of applies is the
   * order of writes.
   */
  apply?: (edit: ConfigEdit) => Promise<void> | void;
  /** The queue edits run in; the gateway shares its own with `reconfigure`. Default: a new one. */
  queue?: SerialQueue;
  /** Previous versions kept beside the file. Default CONFIG_BACKUPS. */
  backups?: number;
  lock?: FileLockOptions;
  logger?: Logger;
}

export interface ConfigEditor {
  readonly path: string;
  /**
   * Changes the file (the whole object: `change` mutates a copy) and applies the result. `after`
   * runs in the same turn, after `apply`, for what a single caller must do in order with the write.
   */
  edit(change: (file: ConfigObject) => void, after?: (edit: ConfigEdit) => Promise<void> | void): Promise<ConfigEdit>;
  /** Changes `mcpServers` only; everything else in the file stays as it was. */
  editServers(change: (servers: Record<string, unknown>) => void): Promise<ConfigEdit>;
  /** Changes `gateway` settings (the port, the tunnel); the running gateway uses them after a restart. */
  updateGateway(change: GatewaySettingsChange, after?: (edit: ConfigEdit) => Promise<void> | void): Promise<ConfigEdit>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function createConfigEditor(options: ConfigEditorOptions): ConfigEditor {
  const { path, secrets } = options;
  const queue = options.queue ?? createSerialQueue();
  const logger = options.logger ?? silentLogger;
  const generations = options.backups ?? CONFIG_BACKUPS;

  /** The file part of a step, under the cross-process lock: from reading the file to deleting secrets. */
  async function step(mutate: (file: ConfigObject) => void): Promise<ConfigEdit> {
    const text = await readConfigText(path);
    const before = parseObject(text, path);
    const previousServers = isRecord(before.mcpServers) ? before.mcpServers : {};
    const file = structuredClone(before);
    mutate(file);
    // A hand-broken `mcpServers` (not an object) is left for the parse below to name, never replaced.
    const servers = file.mcpServers === undefined ? {} : isRecord(file.mcpServers) ? file.mcpServers : undefined;
    const sealed = sealSecretInputs(servers ?? {}, previousServers, path);
    const next = servers ? { ...file, mcpServers: sealed.servers } : file;
    const config = parseConfig(next, path);
    await refuseDanglingReferences(sealed, previousServers);

    const changedIds = new Map<string, string | undefined>();
    const nextText = JSON.stringify(next, null, 2) + '\n';
    const written = nextText !== text;
    try {
      // Stored before the file refers to them: a reader of the new file always finds its secrets.
      for (const [id, value] of sealed.staged) {
        const old = await secrets.get(id);
        if (old === value) continue;
        changedIds.set(id, old);
        await secrets.set(id, value);
      }
      if (written) {
        await keepBackup(text);
        await writeFileAtomic(path, nextText, 0o600);
      }
    } catch (error) {
      // The file still refers to the old values: put them back, so a failed edit changes nothing.
      for (const [id, old] of changedIds) {
        await (old === undefined ? secrets.delete(id) : secrets.set(id, old)).catch(() => {});
      }
      throw fileSystemError(error, path);
    }

    // Deleted only once the written file no longer refers to them.
    const now = referencedSecrets(sealed.servers);
    for (const id of referencedSecrets(previousServers).keys()) {
      if (now.has(id)) continue;
      // The edit is done; a secret left behind is unused, not lost, and is removed by a later edit.
      await secrets.delete(id).catch((error: unknown) => {
        logger.warn('could not delete an unused backend secret', { id, error: (error as Error).message });
      });
    }
    const secretsChanged = new Set([...changedIds.keys()].flatMap((id) => now.get(id) ?? []));
    return { config, secretsChanged: [...secretsChanged], written };
  }

  /**
   * A reference the edit keeps (`{ "secret": true }`) or adds must name a secret that exists: a
   * file referring to a missing secret starts a backend that can never get its value.
   */
  async function refuseDanglingReferences(
    sealed: ReturnType<typeof sealSecretInputs>,
    previousServers: Record<string, unknown>,
  ): Promise<void> {
    const existing = new Set(referencedSecrets(previousServers).keys());
    const checked = new Map(sealed.kept);
    for (const ref of secretReferences(sealed.servers)) {
      if (!existing.has(ref.id) && !checked.has(ref.id)) checked.set(ref.id, ref.field);
    }
    for (const [id, field] of checked) {
      if (sealed.staged.has(id) || (await secrets.get(id)) !== undefined) continue;
      throw new GatewayError(
        'conflict',
        `${path}: the secret "${id}" is not in the secret store (it was removed meanwhile, or never saved); enter the value`,
        { field },
      );
    }
  }

  /** `<file>.1.bak` becomes `.2.bak` and so on; the oldest falls off; the previous text becomes `.1.bak`. */
  async function keepBackup(previous: string): Promise<void> {
    if (generations < 1) return;
    await rm(backupPath(path, generations), { force: true });
    for (let n = generations - 1; n >= 1; n--) {
      await rename(backupPath(path, n), backupPath(path, n + 1)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
    // The previous file's own bytes, private like the config itself (it may hold plain-text values).
    await writeFileAtomic(backupPath(path, 1), previous, 0o600);
  }

  const edit: ConfigEditor['edit'] = (mutate, after) =>
    queue(async () => {
      const result = await withFileLock(path, () => step(mutate), options.lock);
      await options.apply?.(result);
      await after?.(result);
      return result;
    });

  return {
    path,
    edit,
    editServers: (mutate) =>
      edit((file) => {
        const servers = { ...(isRecord(file.mcpServers) ? file.mcpServers : {}) };
        mutate(servers);
        file.mcpServers = servers;
      }),
    updateGateway: (settings, after) => edit((file) => applyGatewayChange(file, settings, path), after),
  };
}

/** Writes a settings change into the file's `gateway` object, keeping the keys it does not name. */
function applyGatewayChange(file: ConfigObject, change: GatewaySettingsChange, path: string): void {
  if (file.gateway !== undefined && !isRecord(file.gateway)) {
    throw new GatewayError('config_invalid', `${path}: must be an object`, { field: 'gateway' });
  }
  const gateway = { ...(file.gateway ?? {}) };
  if (change.port !== undefined) {
    // Checked here for a message a person can act on; the whole-file parse is the real gate.
    if (!portSchema.safeParse(change.port).success) {
      throw new GatewayError('config_invalid', `${path}: ${PORT_MESSAGE}, got ${JSON.stringify(change.port)}`, {
        field: 'gateway.port',
      });
    }
    gateway.port = change.port;
  }
  if (change.tunnel) {
    const tunnel = { ...(isRecord(gateway.tunnel) ? gateway.tunnel : {}) };
    const { domain, ...rest } = change.tunnel;
    Object.assign(tunnel, rest);
    if (domain === null) delete tunnel.domain;
    else if (domain !== undefined) tunnel.domain = domain;
    gateway.tunnel = tunnel;
  }
  file.gateway = gateway;
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const mapped = fileSystemError(error, path, 'read');
    if (mapped !== error) throw mapped;
    throw new GatewayError(
      'config_invalid',
      `${path}: cannot read the config to change it: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function parseObject(text: string, path: string): ConfigObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError(
      'config_invalid',
      `${path}: cannot change the config, it is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!isRecord(value)) throw new GatewayError('config_invalid', `${path}: the config must be a JSON object`);
  return value;
}
