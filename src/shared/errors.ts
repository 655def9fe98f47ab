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
  /** A change needs the config file, and the gateway was started without one (configuration passed in code). */
  | 'no_config_file'
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

/**
 * Every code once, with what each front-end makes of it: the owner API's HTTP status (absent: not an
 * expected answer, so a logged 500) and the CLI's exit status (sysexits.h, so scripts can tell a usage
 * mistake from a gateway that is down). The one place a code is mapped; HTTP and CLI both read it.
 */
export const ERROR_TABLE: Readonly<Record<GatewayErrorCode, { readonly status?: number; readonly exit: number }>> = {
  invalid_argument: { status: 400, exit: 64 }, // EX_USAGE
  config_invalid: { status: 400, exit: 65 }, // EX_DATAERR
  config_not_found: { exit: 66 }, // EX_NOINPUT
  not_found: { status: 404, exit: 66 },
  unknown_tool: { exit: 66 },
  unknown_prompt: { exit: 66 },
  unknown_resource: { exit: 66 },
  port_in_use: { exit: 69 }, // EX_UNAVAILABLE
  backend_unavailable: { exit: 69 },
  backend_error: { exit: 69 },
  not_running: { exit: 69 },
  // RFC 9110 §15.6.3: the tunnel provider (upstream of us) failed to give a public URL.
  tunnel_failed: { status: 502, exit: 69 },
  client_not_installed: { status: 409, exit: 69 },
  node_unavailable: { status: 409, exit: 69 },
  client_config_invalid: { status: 409, exit: 65 },
  // The secret store cannot be read (its key is gone): the message names the file, nothing secret.
  secrets_unreadable: { status: 500, exit: 74 }, // EX_IOERR
  no_config_file: { status: 409, exit: 78 }, // EX_CONFIG
  backend_timeout: { exit: 75 }, // EX_TEMPFAIL
  conflict: { status: 409, exit: 75 },
  already_running: { status: 409, exit: 75 },
  too_large: { status: 413, exit: 65 },
  // RFC 4918 §11.5: the server cannot store what the request needs.
  disk_full: { status: 507, exit: 73 }, // EX_CANTCREAT
  permission_denied: { status: 500, exit: 77 }, // EX_NOPERM
  unauthorized: { status: 401, exit: 77 },
  internal: { exit: 70 }, // EX_SOFTWARE
};

export function isGatewayErrorCode(value: unknown): value is GatewayErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
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
