import type { ClientChangeView, ImportCandidateView, ImportPreview, ImportResult } from './views.js';
import { backendNamePattern, type NamedBackendConfig } from '../config/schema.js';
import { CLIENT_PLACEHOLDER, looksSecret } from '../config/secret-refs.js';
import { GatewayError } from '../shared/errors.js';
import { editClientServers, ENTRY_NAME, getClient, listClientServers, type EngineOptions } from './engine.js';
import type { JsonValue } from './jsonc.js';
import { clientEnvironment, isObject, type ClientAdapter } from './types.js';

/**
 * Import: the servers a client app already has become gateway backends (credentials into the secret
 * store), and optionally the app is switched over to the single gateway entry. The gateway side goes
 * through `edit` (the config file, applied live when a gateway runs); the app's file through the
 * adapters' engine (backup, only the named entries changed, atomic write).
 */

/** What the gateway has now, to recognise servers imported before and names already taken. */
export type ExistingBackends = Record<string, { command?: string; args?: readonly string[]; url?: string }>;

export function existingBackends(backends: readonly NamedBackendConfig[]): ExistingBackends {
  return Object.fromEntries(
    backends.map((b) => [b.name, b.type === 'stdio' ? { command: b.command, args: b.args } : { url: b.url }]),
  );
}

export interface ImportOptions extends EngineOptions {
  existing: ExistingBackends;
}

/** A backend name the gateway accepts, as close to the client's as possible. */
export function backendNameFor(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9_.\- ]/g, '-')
    // Two of "_", "." and space in a row become "__" in the backend's id, which names may not hold.
    .replace(/[_. ]{2,}/g, '-')
    .trim()
    .slice(0, 64);
  return backendNamePattern.test(cleaned) ? cleaned : 'server';
}

interface Converted {
  entry: Record<string, unknown>;
  kind: ImportCandidateView['kind'];
  target: string;
  secrets: string[];
  warnings: string[];
}

const KNOWN_KEYS = new Set([
  'type',
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'serverUrl',
  'httpUrl',
  'headers',
  'disabled',
  'enabled',
]);

const strings = (value: JsonValue | undefined): string[] =>
  Array.isArray(value)
    ? value.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number').map(String)
    : [];

/**
 * Values of a client's env or headers map, with secrets wrapped as `{ secret }` (the owner API's
 * input form: the config edit stores them and writes references).
 */
function sealMap(value: JsonValue | undefined, field: 'env' | 'headers', secrets: string[]) {
  const out: Record<string, string | { secret: string }> = {};
  if (!isObject(value)) return out;
  for (const [key, raw] of Object.entries(value)) {
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
    const text = String(raw);
    if (looksSecret(key, text)) {
      out[key] = { secret: text };
      secrets.push(`${field}.${key}`);
    } else {
      out[key] = text;
    }
  }
  return out;
}

/** A client's entry in the gateway's config shape, or the reason it cannot be. */
export function convertEntry(adapter: ClientAdapter, raw: JsonValue): Converted | { problem: string } {
  if (!isObject(raw)) return { problem: 'not an object in the client config' };
  const secrets: string[] = [];
  const warnings: string[] = [];
  const ignored = Object.keys(raw).filter((key) => !KNOWN_KEYS.has(key));
  if (ignored.length) warnings.push(`ignored settings the gateway has no use for: ${ignored.join(', ')}`);
  if (JSON.stringify(raw).match(CLIENT_PLACEHOLDER)) {
    warnings.push(`contains \${…} placeholders that only ${adapter.name} expands; check the values after importing`);
  }
  const disabled = raw.disabled === true || raw.enabled === false ? { enabled: false } : {};
  if (typeof raw.command === 'string' && raw.command.trim()) {
    const args = strings(raw.args);
    const env = sealMap(raw.env, 'env', secrets);
    const entry: Record<string, unknown> = { command: raw.command, args, env, ...disabled };
    if (typeof raw.cwd === 'string' && raw.cwd) entry.cwd = raw.cwd;
    return { entry, kind: 'stdio', target: [raw.command, ...args].join(' '), secrets, warnings };
  }
  // Windsurf names it serverUrl; Gemini CLI has httpUrl (Streamable HTTP) and url (SSE).
  const url = [raw.url, raw.serverUrl, raw.httpUrl].find((u): u is string => typeof u === 'string');
  if (url === undefined) return { problem: 'neither a command nor a URL' };
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return { problem: `"${url}" is not an http(s) URL` };
  const kind = adapter.remoteKind ? adapter.remoteKind(raw) : raw.type === 'sse' ? 'sse' : 'http';
  const headers = sealMap(raw.headers, 'headers', secrets);
  return { entry: { type: kind, url, headers, ...disabled }, kind, target: url, secrets, warnings };
}

function sameServer(existing: ExistingBackends[string], converted: Converted): boolean {
  if (converted.kind === 'stdio') {
    const entry = converted.entry as { command: string; args: string[] };
    return existing.command === entry.command && JSON.stringify(existing.args ?? []) === JSON.stringify(entry.args);
  }
  return existing.url === (converted.entry as { url: string }).url;
}

interface Candidate {
  view: ImportCandidateView;
  entry?: Record<string, unknown>;
}

async function candidates(client: string, options: ImportOptions) {
  const adapter = getClient(client);
  const { configPath, servers } = await listClientServers(adapter, options);
  const taken = new Map<string, string>();
  const list: Candidate[] = Object.entries(servers).map(([name, raw]) => {
    const backend = backendNameFor(name);
    const converted = convertEntry(adapter, raw);
    const base = { name, backend, kind: 'stdio' as const, target: '', secrets: [], warnings: [] };
    if ('problem' in converted) return { view: { ...base, status: 'blocked', problem: converted.problem } };
    const { kind, target, secrets, warnings } = converted;
    const view: ImportCandidateView = { name, backend, kind, target, secrets, warnings, status: 'new' };
    const existing = Object.hasOwn(options.existing, backend) ? options.existing[backend] : undefined;
    const earlier = taken.get(backend);
    if (existing && sameServer(existing, converted)) view.status = 'present';
    else if (existing) {
      view.status = 'blocked';
      view.problem = `the gateway already has a different server named "${backend}"`;
    } else if (earlier !== undefined) {
      view.status = 'blocked';
      view.problem = `"${earlier}" is imported under the same name "${backend}"`;
    }
    taken.set(backend, name);
    return { view, entry: converted.entry };
  });
  return { adapter, configPath, list };
}

export async function previewImport(client: string, options: ImportOptions): Promise<ImportPreview> {
  const { adapter, configPath, list } = await candidates(client, options);
  return { client: adapter.id, configPath, servers: list.map((c) => c.view) };
}

export interface RunImportOptions extends ImportOptions {
  /** Names in the client's config; every importable server when absent. */
  only?: readonly string[];
  replace?: boolean;
  /** The gateway's MCP URL, for the entry written into the client with `replace`. */
  gatewayUrl: string;
  /** Adds backends to the gateway's config (`mcpServers`), validated as a whole. */
  edit: (change: (servers: Record<string, unknown>) => void) => Promise<unknown>;
}

export async function runImport(client: string, options: RunImportOptions): Promise<ImportResult> {
  const { adapter, configPath, list } = await candidates(client, options);
  let chosen = list;
  if (options.only) {
    const names = list.map((c) => c.view.name);
    for (const name of options.only) {
      if (!names.includes(name)) {
        throw new GatewayError(
          'invalid_argument',
          `servers: "${name}" is not configured in ${adapter.name} (${configPath} has: ${names.join(', ') || 'none'})`,
        );
      }
    }
    chosen = list.filter((c) => options.only!.includes(c.view.name));
  }
  const adding = chosen.filter((c) => c.view.status === 'new');
  const skipped = chosen
    .filter((c) => c.view.status === 'blocked')
    .map((c) => ({ name: c.view.name, reason: c.view.problem ?? 'cannot be imported' }));
  // The gateway first: if its config refuses the servers, the client's file has not been touched.
  if (adding.length > 0) {
    await options.edit((servers) => {
      for (const c of adding) {
        // The names were chosen before this edit's turn: one taken meanwhile is not overwritten.
        if (Object.hasOwn(servers, c.view.backend)) {
          throw new GatewayError(
            'conflict',
            `A backend named "${c.view.backend}" was added while importing; nothing was imported, try again`,
            { field: `mcpServers.${c.view.backend}` },
          );
        }
        servers[c.view.backend] = c.entry;
      }
    });
  }
  const result: ImportResult = { client: adapter.id, configPath, imported: adding.map((c) => c.view), skipped };
  if (options.replace) {
    const moved = chosen.filter((c) => c.view.status !== 'blocked').map((c) => c.view.name);
    result.replaced = await replaceInClient(adapter, moved, options);
  }
  return result;
}

/** Removes the moved servers from the client and adds the gateway entry, in one backed-up write. */
async function replaceInClient(
  adapter: ClientAdapter,
  moved: string[],
  options: RunImportOptions,
): Promise<ClientChangeView> {
  if (!options.gatewayUrl) {
    throw new GatewayError('invalid_argument', 'replace: the gateway URL is not known yet; start the gateway first');
  }
  const environment = options.environment ?? clientEnvironment();
  const entry = await adapter.entry(options.gatewayUrl, environment);
  const outcome = await editClientServers(
    adapter,
    { set: { [ENTRY_NAME]: entry.value }, remove: moved },
    { ...options, environment },
  );
  const undo = outcome.backupPath ? ` To undo, copy ${outcome.backupPath} back over ${outcome.configPath}.` : '';
  return {
    client: adapter.id,
    configPath: outcome.configPath,
    changed: outcome.changed,
    ...(outcome.backupPath ? { backupPath: outcome.backupPath } : {}),
    message: outcome.changed
      ? `${adapter.name} now reaches ${moved.length ? moved.join(', ') : 'its servers'} through the gateway at ${options.gatewayUrl}.${undo} ${adapter.afterConnect}`
      : `${adapter.name} already used the gateway only; nothing changed.`,
    warnings: entry.warnings,
  };
}
