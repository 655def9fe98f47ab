import { readFile } from 'node:fs/promises';
import { GatewayError } from '../shared/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { SecretStore } from '../store/secrets.js';
import { parseConfig } from './load.js';
import type { GatewayConfig, GatewaySettings } from './schema.js';
import { referencedSecrets, sealSecretInputs } from './secret-refs.js';

/** The result of an edit: the new configuration, and the backends whose secret values changed. */
export interface ServersEdit {
  config: GatewayConfig;
  /** Their config may look the same (same references) but they must restart to get the new values. */
  secretsChanged: string[];
}

/**
 * Changes the `mcpServers` of the config file the owner edits by hand too: everything else in
 * the file (gateway settings, keys we do not know) stays as it was. The result is validated as a
 * whole before it is written, atomically, so a bad edit leaves the file untouched.
 *
 * `{ "secret": … }` values in `env` and `headers` go to the secret store and the file gets
 * references (see secret-refs.ts); secrets no longer referenced are deleted after the write.
 */
export async function editServersFile(
  path: string,
  change: (servers: Record<string, unknown>) => void,
  secrets?: SecretStore,
): Promise<ServersEdit> {
  const raw = await readConfigObject(path);
  const before = { ...((raw.mcpServers ?? {}) as Record<string, unknown>) };
  const servers = { ...before };
  change(servers);
  const sealed = sealSecretInputs(servers, before, path);
  const next = { ...raw, mcpServers: sealed.servers };
  const config = parseConfig(next, path);
  if (sealed.staged.size > 0 && !secrets) {
    throw new GatewayError('config_invalid', `${path}: secret values need a secret store, and this gateway has none`);
  }
  // Stored before the file refers to them: a reader of the new file always finds its secrets.
  const changedIds = new Set<string>();
  for (const [id, value] of sealed.staged) {
    if ((await secrets!.get(id)) === value) continue;
    await secrets!.set(id, value);
    changedIds.add(id);
  }
  await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n', 0o600);
  const now = referencedSecrets(sealed.servers);
  if (secrets) {
    for (const id of referencedSecrets(before).keys()) if (!now.has(id)) await secrets.delete(id);
  }
  const secretsChanged = new Set([...changedIds].flatMap((id) => now.get(id) ?? []));
  return { config, secretsChanged: [...secretsChanged] };
}

/** As editServersFile, for callers that need only the new configuration. */
export async function updateServers(
  path: string,
  change: (servers: Record<string, unknown>) => void,
  secrets?: SecretStore,
): Promise<GatewayConfig> {
  return (await editServersFile(path, change, secrets)).config;
}

/**
 * Changes `gateway` settings in the config file (the port, for now), keeping everything else in
 * the file as it was. Validated as a whole and written atomically, like updateServers: a bad value
 * leaves the file untouched. The running gateway keeps its settings until it restarts.
 */
export async function updateGatewaySettings(
  path: string,
  change: {
    port?: number;
    tunnel?: { provider?: 'cloudflare' | 'ngrok'; domain?: string | null; autostart?: boolean };
  },
): Promise<GatewayConfig> {
  const raw = await readConfigObject(path);
  if (
    raw.gateway !== undefined &&
    (typeof raw.gateway !== 'object' || raw.gateway === null || Array.isArray(raw.gateway))
  ) {
    throw new GatewayError('config_invalid', `${path}: gateway: must be an object`);
  }
  const gateway = { ...((raw.gateway ?? {}) as Record<string, unknown>) };
  if (change.port !== undefined) {
    // Checked here for a message a person can act on; the whole-file parse below is the real gate.
    if (!Number.isInteger(change.port) || change.port < 0 || change.port > 65535) {
      throw new GatewayError(
        'config_invalid',
        `${path}: gateway.port: must be a whole number from 0 to 65535 (0 picks any free port), got ${JSON.stringify(change.port)}`,
      );
    }
    gateway.port = change.port;
  }
  if (change.tunnel) {
    const before = gateway.tunnel;
    const tunnel = { ...(typeof before === 'object' && before !== null && !Array.isArray(before) ? before : {}) };
    const { domain, ...rest } = change.tunnel;
    Object.assign(tunnel, rest);
    if (domain === null) delete (tunnel as Record<string, unknown>).domain;
    else if (domain !== undefined) (tunnel as Record<string, unknown>).domain = domain;
    gateway.tunnel = tunnel;
  }
  const next = { ...raw, gateway };
  const config = parseConfig(next, path);
  await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n', 0o600);
  return config;
}

/** The `gateway` settings as saved in the file (defaults filled in), which may differ from the running ones. */
export async function readGatewaySettings(path: string): Promise<GatewaySettings> {
  return parseConfig(await readConfigObject(path), path).gateway;
}

/** One backend's entry as written in the file (references, not secrets), or undefined. */
export async function readServerEntry(path: string, name: string): Promise<unknown> {
  const servers = (await readConfigObject(path)).mcpServers as Record<string, unknown> | undefined;
  return servers && Object.hasOwn(servers, name) ? servers[name] : undefined;
}

async function readConfigObject(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new GatewayError(
      'config_invalid',
      `${path}: cannot read the config to change it: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
