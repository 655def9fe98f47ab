import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from './shared/processes.js';
import { writeFileAtomic } from './store/atomic.js';

/** Written (0600) by a running `serve` so other CLI commands can find it and act as its owner. */
export interface RuntimeInfo {
  mcpUrl: string;
  consoleUrl: string;
  pid: number;
  ownerToken: string;
}

export const runtimeFilePath = (dataDir: string) => join(dataDir, 'runtime.json');

export async function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): Promise<void> {
  await writeFileAtomic(runtimeFilePath(dataDir), JSON.stringify(info, null, 2) + '\n', 0o600, { durable: false });
}

export async function readRuntimeInfo(dataDir: string): Promise<RuntimeInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(runtimeFilePath(dataDir), 'utf8')) as RuntimeInfo;
    if (typeof info.mcpUrl !== 'string' || typeof info.pid !== 'number' || typeof info.ownerToken !== 'string') {
      return undefined;
    }
    return processAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the runtime file only if it is the one this process wrote (same pid and owner token). A
 * file that is unreadable, or names a process that has exited, is not ours to judge: another
 * gateway may have just written it, and removing it would lose that gateway for every CLI command.
 */
export async function removeRuntimeInfo(
  dataDir: string,
  writer: Pick<RuntimeInfo, 'pid' | 'ownerToken'>,
): Promise<boolean> {
  let current: Partial<RuntimeInfo>;
  try {
    current = JSON.parse(await readFile(runtimeFilePath(dataDir), 'utf8')) as Partial<RuntimeInfo>;
  } catch {
    return false;
  }
  if (current?.pid !== writer.pid || current.ownerToken !== writer.ownerToken) return false;
  await rm(runtimeFilePath(dataDir), { force: true });
  return true;
}
