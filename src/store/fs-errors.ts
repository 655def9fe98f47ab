import { GatewayError } from '../shared/errors.js';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const REFUSED = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * A file system failure the user can act on, as a GatewayError naming the file: `disk_full`
 * (ENOSPC, EDQUOT) or `permission_denied` (EACCES, EPERM, EROFS), the errno error as its cause.
 * Anything else, and errors that are already GatewayErrors, come back unchanged.
 */
export function fileSystemError(error: unknown, path: string, action: 'write' | 'read' = 'write'): unknown {
  if (error instanceof GatewayError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && DISK_FULL.has(code)) {
    return new GatewayError(
      'disk_full',
      `Disk full: could not ${action} ${path} (${code}). Free some space and try again; nothing was changed`,
      { field: path, cause: error },
    );
  }
  if (code !== undefined && REFUSED.has(code)) {
    return new GatewayError(
      'permission_denied',
      `Permission denied: could not ${action} ${path} (${code}). Check that the folder is writable by this user and not on a read-only disk`,
      { field: path, cause: error },
    );
  }
  return error;
}

/** Whether a failure is one of those a full or read-only disk causes (the store stays usable once it is fixed). */
export function isStorageError(error: unknown): error is GatewayError {
  return error instanceof GatewayError && (error.code === 'disk_full' || error.code === 'permission_denied');
}
