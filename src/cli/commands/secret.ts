/**
 * `cortex-gateway secret set <server> <NAME> [--header]` and `secret seal [server…]`: backend
 * secrets for headless users who edit the config file by hand. Values go to the encrypted store and
 * the file keeps `${secret:…}` references, through the same edit the console's "secret" toggle uses.
 */
import { createConfigEditor } from '../../config/editor.js';
import { readServerEntry } from '../../config/file.js';
import { looksSecret, secretRefId } from '../../config/secret-refs.js';
import { GatewayError } from '../../shared/errors.js';
import { openKeyFileSecretStore } from '../../store/secrets.js';
import { callOwnerApi, locateGateway, parseCommand, usageError, type CliCommand, type Write } from '../common.js';

type Entry = Record<string, unknown>;
type Field = 'env' | 'headers';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Applies `change` to one server's entry: through the running gateway (live) or the file. */
async function editEntries(
  values: Record<string, unknown>,
  names: (servers: Record<string, unknown>) => string[],
  change: (name: string, entry: Entry) => boolean,
): Promise<string[]> {
  const { loaded, running } = await locateGateway(values, 'required');
  if (running) {
    // The running gateway stores the secrets and restarts what uses them; the file comes along.
    const all = Object.fromEntries(
      await Promise.all(
        loaded.config.backends.map(async (b) => [b.name, await readServerEntry(loaded.configPath, b.name)] as const),
      ),
    );
    const changed: string[] = [];
    for (const name of names(all)) {
      const entry = structuredClone(all[name]) as Entry;
      if (!change(name, entry)) continue;
      await callOwnerApi(running, 'PUT', `/api/backends/${encodeURIComponent(name)}`, entry);
      changed.push(name);
    }
    return changed;
  }
  // No gateway: straight to the file, in turn with any other process editing it (a lock beside it).
  const secrets = await openKeyFileSecretStore(loaded.dataDir);
  const changed: string[] = [];
  await createConfigEditor({ path: loaded.configPath, secrets }).editServers((servers) => {
    for (const name of names(servers)) {
      const entry = structuredClone(servers[name]) as Entry;
      if (!change(name, entry)) continue;
      servers[name] = entry;
      changed.push(name);
    }
  });
  return changed;
}

function requireServer(servers: Record<string, unknown>, name: string): string {
  if (!isRecord(servers[name])) throw new GatewayError('not_found', `No server named "${name}" in the config`);
  return name;
}

/** "server field.NAME" for each credential-looking value still written in plain text in the config. */
export function plainSecrets(
  backends: ReadonlyArray<{ name: string; env?: Record<string, string>; headers?: Record<string, string> }>,
): string[] {
  const found: string[] = [];
  for (const backend of backends) {
    for (const field of ['env', 'headers'] as const) {
      for (const [key, value] of Object.entries(backend[field] ?? {})) {
        if (secretRefId(value) === undefined && looksSecret(key, value)) found.push(`${backend.name} ${field}.${key}`);
      }
    }
  }
  return found;
}

async function secret(args: string[], out: Write, readInput: () => Promise<string>): Promise<number> {
  const { values, positionals } = parseCommand(args, { header: { type: 'boolean' } }, true);
  const [sub, ...rest] = positionals;
  if (sub === 'set') {
    const [server, key, ...extra] = rest;
    if (!server || !key || extra.length) {
      throw usageError(
        'secret set: give the server and the variable (or --header) name: secret set github GITHUB_TOKEN',
      );
    }
    // From standard input, never an argument: arguments end up in shell history and `ps`.
    const value = (await readInput()).replace(/\r?\n$/, '');
    if (!value) {
      throw usageError(
        `secret set: pipe the value on standard input, e.g. printf %s "$TOKEN" | cortex-gateway secret set ${server} ${key}`,
      );
    }
    const field: Field = values.header ? 'headers' : 'env';
    await editEntries(
      values,
      (servers) => [requireServer(servers, server)],
      (_name, entry) => {
        if (field === 'headers' && typeof entry.url !== 'string') {
          throw usageError(`secret set --header: "${server}" is not a remote (URL) server`);
        }
        entry[field] = { ...(isRecord(entry[field]) ? entry[field] : {}), [key]: { secret: value } };
        return true;
      },
    );
    out(
      `Stored ${server} ${field === 'env' ? 'environment variable' : 'header'} ${key} in the secret store; the config file refers to it.\n`,
    );
    return 0;
  }
  if (sub === 'seal') {
    const sealed: string[] = [];
    const changed = await editEntries(
      values,
      (servers) => (rest.length ? rest.map((name) => requireServer(servers, name)) : Object.keys(servers)),
      (name, entry) => {
        let any = false;
        for (const field of ['env', 'headers'] as const) {
          const map = entry[field];
          if (!isRecord(map)) continue;
          for (const [key, value] of Object.entries(map)) {
            if (typeof value !== 'string' || secretRefId(value) !== undefined || !looksSecret(key, value)) continue;
            map[key] = { secret: value };
            sealed.push(`${name} ${field}.${key}`);
            any = true;
          }
        }
        return any;
      },
    );
    out(
      changed.length === 0
        ? 'No credential-looking values in the config file: nothing to seal.\n'
        : `Moved to the secret store (the config file now refers to them):\n${sealed.map((s) => `  ${s}\n`).join('')}`,
    );
    return 0;
  }
  throw usageError(
    'secret: use "secret set <server> <NAME> [--header]" (value on standard input) or "secret seal [server…]"',
  );
}

export const secretCommand: CliCommand = {
  name: 'secret',
  usage: 'secret set <server> <NAME> [--header] | secret seal [server…]',
  summary: "Store a server's environment variable (or header) in the encrypted secret store",
  details: [
    'set: the value is read from standard input, the config file gets a reference;',
    'seal: move credential-looking values written in the config file into the secret store',
  ],
  run: (args, io) => secret(args, io.out, () => io.readStdin()),
};
