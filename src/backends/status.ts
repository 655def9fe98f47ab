/**
 * What the gateway reports about its backends: owned here, re-exported by the console's contract
 * (src/api/contract.ts). No imports, so the renderer can read these types without the backends' code.
 */

export type BackendState = 'connecting' | 'ready' | 'degraded' | 'down' | 'disabled';
export type BackendKind = 'stdio' | 'http' | 'sse';

/** What the console, the tray, `whoami` and `cortex-gateway backends` show about one backend. */
export interface BackendStatus {
  name: string;
  id: string;
  kind: BackendKind;
  /** The transport actually in use; an `http` backend may have fallen back to SSE. */
  transport?: 'stdio' | 'streamable-http' | 'sse';
  state: BackendState;
  /** Epoch ms of the last state change. */
  since: number;
  /**
   * Why the backend last failed, while it is not ready: for a stdio child how it ended
   * (`process exited with code 1`, `killed by SIGKILL`), else the connection or protocol error.
   */
  lastError?: string;
  /** The kind of `lastError`, present with it. */
  lastErrorKind?: BackendErrorKind;
  /** A stdio backend's last few stderr lines from the run that failed (secrets masked), oldest first. */
  lastStderr?: string[];
  /** Round-trip of the last successful ping, in milliseconds; absent until the first ping answers. */
  latencyMs?: number;
  restartCount: number;
  /** Tools clients can be given: the backend's tools minus those the owner turned off. */
  toolCount: number;
  promptCount: number;
  resourceCount: number;
  pid?: number;
  /**
   * A backend configured with `instances: "per-client"`: how many clients' own instances run now
   * (each started at its client's first call, stopped after it idles). A count only: `whoami`
   * shows statuses to clients, and which other clients use a server is not theirs to see.
   */
  clientInstances?: number;
  server?: { name: string; version: string };
  /**
   * The MCP revision spoken with the backend while connected (and after, until the next connect):
   * `2026-07-28` when it answered `server/discover`, else the one initialize agreed on.
   */
  protocolVersion?: string;
}

/**
 * What kind of failure a backend's `lastError` is, decided where it happened (the supervisor knows
 * whether a ping went unanswered, the child exited, spawning failed…), so no one parses the text.
 * - `unresponsive`: connected, but pings went unanswered.
 * - `exited`: the stdio child ended (an exit code or a signal).
 * - `not_started`: never got going: spawn failed (command not found…), a secret or the cwd is missing.
 * - `timeout`: initialize was not answered within `startupTimeoutMs`.
 * - `auth`: the server refused our credentials (HTTP 401/403, or its own refusal saying so).
 * - `connection`: the network failed (refused, reset, unknown host) or the connection closed.
 * - `error`: anything else; the text says what.
 */
export type BackendErrorKind = 'unresponsive' | 'exited' | 'not_started' | 'timeout' | 'auth' | 'connection' | 'error';

/** The outcome of connecting a backend configuration once, before saving it. */
export interface BackendTestResult {
  /** `ready`, or `down`/`degraded` with `lastError`; `connecting` if it did not settle in time. */
  status: BackendStatus;
  /** The names of the tools it offers, as the server names them. */
  tools: string[];
  /** What a stdio server printed on stderr (the usual place for its reason to fail). */
  stderr: string[];
}
