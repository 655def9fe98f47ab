import { GatewayError } from '../shared/errors.js';

/**
 * A file system failure while changing the config, as the error the owner can act on: a full disk
 * and a refused write get their own codes (507 and 500 in the owner API), naming the file. Other
 * errors are returned as they are.
 */
export function fileError(error: unknown, path: string, doing: string): unknown {
  if (error instanceof GatewayError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new GatewayError('disk_full', `${path}: cannot ${doing}: the disk is full (${code}); nothing was changed`, {
      cause: error,
      field: path,
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new GatewayError(
      'permission_denied',
      `${path}: cannot ${doing}: the file system refused it (${code}); nothing was changed`,
      { cause: error, field: path },
    );
  }
  return error;
}
