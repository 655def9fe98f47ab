import { readFile } from 'node:fs/promises';
import { GatewayError } from '../shared/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { parseConfig } from './load.js';
import type { GatewayConfig } from './schema.js';

/**
 * Changes the `mcpServers` of the config file the owner edits by hand too: everything else in
 * the file (gateway settings, keys we do not know) stays as it was. The result is validated as a
 * whole before it is written, atomically, so a bad edit leaves the file untouched.
 */
export async function updateServers(
  path: string,
  change: (servers: Record<string, unknown>) => void,
): Promise<GatewayConfig> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new GatewayError(
      'config_invalid',
      `${path}: cannot read the config to change it: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const servers = { ...((raw.mcpServers ?? {}) as Record<string, unknown>) };
  change(servers);
  const next = { ...raw, mcpServers: servers };
  const config = parseConfig(next, path);
  await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n', 0o600);
  return config;
}
