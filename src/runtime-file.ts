import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

export async function removeRuntimeInfo(dataDir: string, pid: number): Promise<void> {
  const current = await readRuntimeInfo(dataDir);
  if (!current || current.pid === pid) await rm(runtimeFilePath(dataDir), { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
