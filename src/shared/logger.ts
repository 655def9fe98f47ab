import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/** The logging port: everything in src/ logs through one of these, never through console directly. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface ConsoleLoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default so stdout stays clean for machine-readable output. */
  write?: (line: string) => void;
  json?: boolean;
}

/**
 * Characters that could make one log call look like several lines or rewrite how a line reads: C0
 * controls (CR, LF…), DEL, C1 controls (NEL is a line break to some readers), the Unicode line and
 * paragraph separators, and the bidi controls (an RTL override flips what follows on screen,
 * Unicode TR #9 / CVE-2021-42574). A client name or a backend's output may carry any of them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text made safe for one log line: every unsafe character written as an escape (`\n`, `\u202e`). */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A field value in a text line: plain when it is one word, else quoted as JSON (logfmt style), so a
 * value holding " level=error" cannot pass for another field; then escaped like all text.
 */
function formatValue(value: unknown): string {
  if (typeof value !== 'string') return escapeLogText(JSON.stringify(value) ?? String(value));
  return escapeLogText(value === '' || /[\s"=]/.test(value) ? JSON.stringify(value) : value);
}

export function createConsoleLogger(options: ConsoleLoggerOptions = {}, bound: LogFields = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    // Secrets are scrubbed here, at the one place every log line passes through.
    const all = redact({ ...bound, ...fields }) as LogFields;
    if (options.json) {
      // JSON escapes C0 controls itself; what it leaves (C1, bidi, U+2028) becomes \u escapes, still valid JSON.
      write(escapeLogText(JSON.stringify({ time: new Date().toISOString(), level, message, ...all })));
      return;
    }
    const extra = Object.entries(all)
      .map(([k, v]) => `${escapeLogText(k)}=${formatValue(v)}`)
      .join(' ');
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${escapeLogText(message)}${extra ? ' ' + extra : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createConsoleLogger(options, { ...bound, ...fields }),
  };
}

/**
 * A logger that passes every message and string field (nested ones and error messages included)
 * through `mask` first: for a component that knows secret values the shared redaction cannot
 * recognise, such as a backend's own tokens (see `createSecretMasker`).
 */
export function maskingLogger(logger: Logger, mask: (text: string) => string): Logger {
  const clean = (fields?: LogFields) => (fields ? (maskStrings(fields, mask, 0) as LogFields) : undefined);
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) =>
    logger[level](mask(message), clean(fields));
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => maskingLogger(logger.child(clean(fields)!), mask),
  };
}

function maskStrings(value: unknown, mask: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return mask(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, mask, depth + 1));
  if (value instanceof Error) return { name: value.name, message: mask(value.message) };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, mask, depth + 1)]));
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
