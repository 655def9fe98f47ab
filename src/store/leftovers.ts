import { basename, dirname } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { removeStaleTempFiles } from './atomic.js';

/**
 * Removes the temp files of writes a killed process never finished (kill -9, power loss) in the
 * gateway's folders: the whole data folder, and beside the config file only its own temp files
 * (that folder may be shared with anything). Run before the stores open.
 */
export async function removeLeftovers(folders: {
  dataDir?: string;
  configPath?: string;
  logger: Logger;
}): Promise<void> {
  const { dataDir, configPath } = folders;
  const removed = [
    ...(dataDir ? await removeStaleTempFiles(dataDir) : []),
    ...(configPath ? await removeStaleTempFiles(dirname(configPath), { only: basename(configPath) }) : []),
  ];
  if (removed.length > 0) folders.logger.info('removed temp files of unfinished writes', { files: removed.join(', ') });
}
