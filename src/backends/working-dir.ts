import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { GatewayError } from '../shared/errors.js';

/** Where the folders a stdio backend may start in come from. */
export interface WorkingDirOptions {
  /** The gateway's data folder: each backend gets `<dataDir>/servers/<backend id>/` to start in. */
  dataDir?: string | undefined;
  /** Folder of the config file; a relative `cwd` in the config resolves against it. */
  configDir?: string | undefined;
  /** The user's home: the start folder without a data folder, and the base of a relative `cwd` without a config file. */
  home?: string | undefined;
}

/**
 * The folder a stdio backend starts in, never the gateway's own working directory: under
 * `npm run serve` that is the checkout, where `npx -y <package>` would resolve the repository's
 * own copy of the package and the server would keep its data inside `node_modules`.
 *
 * - `cwd` in the config wins; a relative one is read from the config file's folder (where the user
 *   wrote it), or from the home folder when the gateway has no config file. It must exist.
 * - Otherwise `<dataDir>/servers/<backend id>/`, created private (0700) on first use: a folder of
 *   its own that survives restarts and updates of the gateway.
 * - Without a data folder (embedders, tests), the user's home.
 */
export async function backendWorkingDir(
  backend: { id: string; cwd?: string | undefined },
  options: WorkingDirOptions,
): Promise<string> {
  const home = options.home ?? homedir();
  if (backend.cwd !== undefined) {
    const dir = isAbsolute(backend.cwd) ? backend.cwd : resolve(options.configDir ?? home, backend.cwd);
    const found = await stat(dir).catch(() => undefined);
    if (!found?.isDirectory()) {
      throw new GatewayError('config_invalid', `cwd: ${dir} is not an existing folder`, { field: 'cwd' });
    }
    return dir;
  }
  if (options.dataDir === undefined) return home;
  const dir = join(options.dataDir, 'servers', backend.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
