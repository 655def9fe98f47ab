import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConsoleLogger, type LogLevel, type Logger } from './logger.js';

export interface FileLoggerOptions {
  /** The log file, e.g. `<logs>/cortex-gateway.log`; its folder is created private (0700). */
  path: string;
  level?: LogLevel;
  /** Past this size the file is renamed to `<path>.1` (replacing the previous one) and a new one begun. */
  maxBytes?: number;
}

export type FileLogger = Logger & { readonly path: string; close(): Promise<void> };

const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

/**
 * The desktop app's log: the same lines (and the same redaction of tokens and secrets) as the
 * console logger, appended to a file readable by the user only, kept to two files of bounded size.
 */
export function createFileLogger(options: FileLoggerOptions): FileLogger {
  const { path } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let size = sizeOf(path);
  // Synchronous appends: a log line must not be lost when the app quits or crashes right after it.
  let fd: number | undefined;
  const rotate = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    try {
      renameSync(path, `${path}.1`);
    } catch {
      // Windows may refuse to rename a file another process holds; keep appending rather than lose lines.
    }
    size = sizeOf(path);
  };
  if (size >= maxBytes) rotate();
  const write = (line: string) => {
    const data = Buffer.from(line + '\n', 'utf8');
    if (size > 0 && size + data.length > maxBytes) rotate();
    try {
      fd ??= openSync(path, 'a', 0o600);
      writeSync(fd, data);
      size += data.length;
    } catch {
      // A full disk or a removed folder must not take the app down with it.
    }
  };
  const logger = createConsoleLogger({ level: options.level ?? 'info', write });
  return Object.assign(logger, {
    path,
    close: async () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
