/**
 * Local errors carry a stable string `code` callers switch on; the message is for humans.
 * OAuth wire errors (issue 3) live apart from these and are converted at the HTTP boundary.
 */
export type GatewayErrorCode =
  | 'config_invalid'
  | 'config_not_found'
  | 'port_in_use'
  | 'backend_unavailable'
  | 'backend_timeout'
  | 'backend_error'
  | 'unknown_tool'
  | 'unknown_prompt'
  | 'unknown_resource'
  | 'invalid_argument'
  | 'not_running'
  | 'client_not_installed'
  | 'client_config_invalid'
  | 'node_unavailable'
  | 'not_found'
  | 'tunnel_failed'
  | 'secrets_unreadable'
  /** Another edit or process holds what this change needed (a concurrent edit, a running gateway). */
  | 'conflict'
  /** A write failed because the disk (or quota) is full: ENOSPC, EDQUOT. */
  | 'disk_full'
  /** A write or read was refused by the file system: EACCES, EPERM, EROFS. */
  | 'permission_denied'
  /** A gateway already runs for this data folder. */
  | 'already_running'
  /** The owner's proof (CLI token, or console session from the console's own origin) is missing or gone. */
  | 'unauthorized'
  /** A request body over the route's limit. */
  | 'too_large'
  | 'internal';

/** Every code once, at run time: an error that crossed the owner API keeps its code if it is one of ours. */
const CODES: Record<GatewayErrorCode, true> = {
  config_invalid: true,
  config_not_found: true,
  port_in_use: true,
  backend_unavailable: true,
  backend_timeout: true,
  backend_error: true,
  unknown_tool: true,
  unknown_prompt: true,
  unknown_resource: true,
  invalid_argument: true,
  not_running: true,
  client_not_installed: true,
  client_config_invalid: true,
  node_unavailable: true,
  not_found: true,
  tunnel_failed: true,
  secrets_unreadable: true,
  conflict: true,
  disk_full: true,
  permission_denied: true,
  already_running: true,
  unauthorized: true,
  too_large: true,
  internal: true,
};

export function isGatewayErrorCode(value: unknown): value is GatewayErrorCode {
  return typeof value === 'string' && Object.hasOwn(CODES, value);
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  /** The input field or JSON path at fault (`mcpServers.github.env`), or the file path of a failed write. */
  readonly field: string | undefined;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.field = options?.field;
  }
}

export function isGatewayError(value: unknown, code?: GatewayErrorCode): value is GatewayError {
  return value instanceof GatewayError && (code === undefined || value.code === code);
}

/** A short, single-line description of any thrown value, for states and messages shown to users. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const text = error.message || error.name;
    return code && !text.includes(code) ? `${code}: ${text}` : text;
  }
  return String(error);
}

export type Result<T, E = { code: string; message: string }> = { ok: true; value: T } | { ok: false; error: E };
