import { GatewayError } from '../shared/errors.js';
import type { SecretStore } from '../store/secrets.js';

/**
 * Backend secrets live in the secret store; the config file names them with a reference in place
 * of the value: `"GITHUB_TOKEN": "${secret:github.env.GITHUB_TOKEN}"`. A reference is a plain
 * string, so the file keeps Claude Desktop's shape and the schema is unchanged; it is resolved
 * only when a backend is spawned or connected.
 */

// Names that usually hold credentials, and values that look like one whatever their name.
const SECRET_NAME =
  /(token|secret|passw(or)?d|pwd|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential|auth|cookie|session)/i;
const SECRET_VALUE = /^(bearer|basic)\s|^(sk-|sk_|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-|AKIA)/i;
/** `${input:…}`, `${env:…}`, `${workspaceFolder}`: placeholders only a client app expands. */
export const CLIENT_PLACEHOLDER = /\$\{[^}]+\}/;

/** Whether an env variable or header holds a secret that belongs in the secret store. */
export function looksSecret(name: string, value: string): boolean {
  if (!value || CLIENT_PLACEHOLDER.test(value)) return false;
  return SECRET_NAME.test(name) || SECRET_VALUE.test(value);
}

/**
 * The values of an `env` or `headers` map written in plain text that look like credentials (not
 * yet sealed in the secret store): masked like stored secrets in what the backend prints.
 */
export function plainSecretValues(values: Readonly<Record<string, string>>): string[] {
  return Object.entries(values)
    .filter(([key, value]) => secretRefId(value) === undefined && looksSecret(key, value))
    .map(([, value]) => value);
}

/** The maps whose values may be secrets. */
export const SECRET_FIELDS = ['env', 'headers'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

const REFERENCE = /^\$\{secret:([^{}]+)\}$/;

export function secretRef(id: string): string {
  return `\${secret:${id}}`;
}

/** The secret id a config value refers to, or undefined for a plain value. */
export function secretRefId(value: unknown): string | undefined {
  return typeof value === 'string' ? REFERENCE.exec(value)?.[1] : undefined;
}

/** Readable and stable: the backend, the map and the key it came from. */
export function secretId(backend: string, field: SecretField, key: string): string {
  return `${backend}.${field}.${key}`.replace(/[{}]/g, '_');
}

/**
 * One value as the owner API takes it: a plain string, `{ "secret": "value" }` to store a new
 * secret, or `{ "secret": true }` to keep the one already saved (what the API shows in its place).
 */
export type SecretInput = string | { secret: string | true };

/** What the owner API shows for a secret value. */
export const MASKED_SECRET = Object.freeze({ secret: true as const });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function secretMaps(entry: unknown): Array<[SecretField, Record<string, unknown>]> {
  if (!isRecord(entry)) return [];
  return SECRET_FIELDS.flatMap((field) => (isRecord(entry[field]) ? [[field, entry[field]] as const] : []));
}

export interface SealedServers {
  servers: Record<string, unknown>;
  /** Secret values to store before the file that refers to them is written, by id. */
  staged: Map<string, string>;
  /**
   * References kept by `{ "secret": true }`, id → the field (`mcpServers.gh.env.TOKEN`): the
   * secret must still be in the store when the file is written, or the file would dangle.
   */
  kept: Map<string, string>;
}

/**
 * Replaces `{ secret }` inputs in `mcpServers` by references: new values are staged for the store,
 * `{ secret: true }` keeps the reference the previous file had for that same key. Anything else is
 * left for the schema to judge. Errors name the JSON path, like the schema's.
 */
export function sealSecretInputs(
  servers: Record<string, unknown>,
  previous: Record<string, unknown>,
  source: string,
): SealedServers {
  const staged = new Map<string, string>();
  const keptIds = new Map<string, string>();
  const out: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(servers)) {
    out[name] = entry;
    for (const [field, values] of secretMaps(entry)) {
      const sealed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(values)) {
        sealed[key] = sealOne(value, {
          id: secretId(name, field, key),
          kept: () => {
            const before = secretMaps(previous[name]).find(([f]) => f === field)?.[1][key];
            return secretRefId(before) === undefined ? undefined : (before as string);
          },
          staged,
          keptRefs: keptIds,
          source,
          field: `mcpServers.${name}.${field}.${key}`,
        });
      }
      out[name] = { ...(out[name] as Record<string, unknown>), [field]: sealed };
    }
  }
  return { servers: out, staged, kept: keptIds };
}

function sealOne(
  value: unknown,
  at: {
    id: string;
    kept: () => string | undefined;
    staged: Map<string, string>;
    keptRefs: Map<string, string>;
    source: string;
    field: string;
  },
): unknown {
  if (!isRecord(value) || !('secret' in value)) return value;
  const secret = value.secret;
  if (secret === true) {
    const kept = at.kept();
    // The caller saw a saved secret that is not there now (the backend was removed or changed
    // meanwhile, or never had one): a conflict with the current state, not a malformed request.
    if (!kept) {
      throw new GatewayError(
        'conflict',
        `${at.source}: no saved secret to keep (the backend or this value was removed or changed meanwhile); enter the value`,
        { field: at.field },
      );
    }
    at.keptRefs.set(secretRefId(kept)!, at.field);
    return kept;
  }
  if (typeof secret !== 'string' || secret === '') {
    throw new GatewayError('config_invalid', `${at.source}: a secret must be a non-empty string (or true to keep it)`, {
      field: at.field,
    });
  }
  at.staged.set(at.id, secret);
  return secretRef(at.id);
}

/** Every secret reference in `mcpServers`, with the field that holds it (`mcpServers.gh.env.TOKEN`). */
export function secretReferences(
  servers: Record<string, unknown>,
): Array<{ id: string; backend: string; field: string }> {
  const refs: Array<{ id: string; backend: string; field: string }> = [];
  for (const [name, entry] of Object.entries(servers)) {
    for (const [field, values] of secretMaps(entry)) {
      for (const [key, value] of Object.entries(values)) {
        const id = secretRefId(value);
        if (id !== undefined) refs.push({ id, backend: name, field: `mcpServers.${name}.${field}.${key}` });
      }
    }
  }
  return refs;
}

/** Every secret id the `mcpServers` refer to, with the backends referring to each. */
export function referencedSecrets(servers: Record<string, unknown>): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  for (const { id, backend } of secretReferences(servers)) {
    const names = refs.get(id) ?? [];
    if (!names.includes(backend)) names.push(backend);
    refs.set(id, names);
  }
  return refs;
}

/** A backend entry as the owner API shows it: references become `{ secret: true }`. */
export function maskSecrets(entry: unknown): unknown {
  if (!isRecord(entry)) return entry;
  const out: Record<string, unknown> = { ...entry };
  for (const [field, values] of secretMaps(entry)) {
    out[field] = Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, secretRefId(value) === undefined ? value : MASKED_SECRET]),
    );
  }
  return out;
}

/**
 * The values to hand to a backend: references replaced by their secrets. A missing secret is an
 * error naming the field and the id, never the value; without a store, references cannot resolve.
 */
export async function resolveSecretRefs(
  values: Readonly<Record<string, string>>,
  store: SecretStore | undefined,
  field: SecretField,
  /** Receives each secret value resolved, so the caller can keep it out of what it shows. */
  found?: string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const id = secretRefId(value);
    if (id === undefined) {
      out[key] = value;
      continue;
    }
    const secret = store ? await store.get(id) : undefined;
    if (secret === undefined) {
      throw new GatewayError(
        'config_invalid',
        `${field}.${key}: the secret "${id}" is not in the secret store; enter the value again`,
      );
    }
    out[key] = secret;
    found?.push(secret);
  }
  return out;
}
