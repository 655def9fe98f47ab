import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CLI } from './gateway.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment the CLI sees: every per-user location inside `home`, no gateway running there. */
export function homeEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    APPDATA: join(home, 'AppData', 'Roaming'),
    LOCALAPPDATA: join(home, 'AppData', 'Local'),
    CORTEX_DATA_DIR: join(home, 'cortex-data'),
  };
  for (const key of ['CLAUDE_CONFIG_DIR', 'CORTEX_CONFIG', 'CORTEX_PORT', 'CORTEX_HOST']) delete env[key];
  return env;
}

/** The real CLI (from source), with HOME and the per-user folders inside `home`. */
export function spawnCliIn(home: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: homeEnv(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** As spawnCliIn, to completion: exit code and output. */
export function runCliIn(home: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawnCliIn(home, args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
