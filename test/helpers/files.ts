import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file under `dir` with its text. The data folder is live while tests read it: a file removed
 * between the listing and its read (the child-registry entry of a backend that just exited, a store's
 * temp file renamed into place) is skipped, since what is gone cannot hold what the test looks for.
 */
export async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    try {
      out[path] = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return out;
}
