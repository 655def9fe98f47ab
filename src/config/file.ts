import { readFile } from 'node:fs/promises';
import { GatewayError } from '../shared/errors.js';
import { parseConfig } from './load.js';
import type { GatewaySettings } from './schema.js';

/*
 * Reads of the config file the owner also edits by hand. Every change to it goes through the
 * config editor (editor.ts), which serializes edits and keeps backups.
 */

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
    throw new GatewayError('config_invalid', `${path}: cannot read the config: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
