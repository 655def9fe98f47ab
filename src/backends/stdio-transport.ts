import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough } from 'node:stream';
import {
  deserializeMessage,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  serializeMessage,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type Transport,
} from '@modelcontextprotocol/client';
import { describeError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { systemProcesses, type ProcessTable } from '../shared/processes.js';
import type { ChildRegistry } from './child-registry.js';
import { createJsonLineReader, recoverEnvelope, type JsonLineReader, type OversizedLine } from './json-lines.js';
import { spawnPlan } from './spawn-plan.js';

/**
 * The stdio client transport the gateway spawns its backends with. Ours rather than the SDK's
 * StdioClientTransport for three reasons:
 * - Process groups. Each child leads its own group (POSIX), and closing signals the group, so what
 *   a server started (a browser, a language server, `npx`'s own child) goes with it.
 * - A per-message size limit that fails one call. The SDK's transport caps its whole read buffer at
 *   10 MiB and closes the connection when a message exceeds it: every call in flight on that
 *   backend then failed as "process exited". Here a line over `maxMessageBytes` is dropped without
 *   being buffered whole, and only the request it answered gets an error naming the limit.
 * - A record of each running child in the data folder (ChildRegistry), so the next start can stop
 *   what a crashed gateway left running.
 * Spawning, environment and Windows command handling match the SDK's (cross-spawn) behaviour; see
 * spawn-plan.ts. Shutdown follows the MCP spec's stdio lifecycle with the SDK's grace periods.
 */

export interface StdioTransportOptions {
  command: string;
  args: readonly string[];
  /** The child's whole environment (see childEnvironment). */
  env: Record<string, string>;
  cwd?: string;
  /** The backend's name, for the errors and log lines this transport produces. */
  backend: string;
  /** Longest message accepted from the child, in bytes. */
  maxMessageBytes: number;
  /** Where running children are recorded; none without a data folder. */
  children?: ChildRegistry;
  logger?: Logger;
  processes?: ProcessTable;
  /** Wait after stdin EOF, then after SIGTERM, before the next step. Default 2 s, as the SDK. */
  graceMs?: number;
}

const POSIX = process.platform !== 'win32';

/**
 * Process groups of children still running, signalled if the gateway exits without closing them (a
 * second Ctrl-C, process.exit on a fatal error): detached children no longer share the terminal's
 * group, so they would not get its SIGINT.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pgid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of liveGroups) {
        try {
          process.kill(-group, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    });
  }
  liveGroups.add(pgid);
}

export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  /** The child's stderr, available before start() so nothing it prints early is missed. */
  readonly stderr = new PassThrough();

  readonly #options: StdioTransportOptions;
  readonly #log: Logger;
  readonly #processes: ProcessTable;
  readonly #graceMs: number;
  readonly #reader: JsonLineReader;
  #child: ChildProcessWithoutNullStreams | undefined;
  #started = false;
  #exited = false;
  #closed = false;
  /** Whether the group still had members when the child exited: only then can leftovers exist. */
  #groupOutlived = false;
  #closing: Promise<void> | undefined;
  #recorded: Promise<void> | undefined;
  #forgotten: Promise<void> | undefined;

  constructor(options: StdioTransportOptions) {
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#processes = options.processes ?? systemProcesses;
    this.#graceMs = options.graceMs ?? 2_000;
    this.#reader = createJsonLineReader({
      maxLineBytes: options.maxMessageBytes,
      onLine: (line) => this.#line(line),
      onOversized: (line) => this.#oversized(line),
    });
  }

  /** The child's pid once spawned, until it is closed. */
  get pid(): number | undefined {
    return this.#closed ? undefined : this.#child?.pid;
  }

  /** How the child ended (`null` while it runs or before it started): the backend reports it. */
  get exitCode(): number | null {
    return this.#child?.exitCode ?? null;
  }

  get signalCode(): NodeJS.Signals | null {
    return this.#child?.signalCode ?? null;
  }

  start(): Promise<void> {
    if (this.#started) {
      return Promise.reject(new Error('StdioTransport already started; Client.connect() starts it'));
    }
    this.#started = true;
    const options = this.#options;
    const plan = spawnPlan(options.command, options.args, {
      platform: process.platform,
      env: options.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (!plan) {
      // What spawn() itself says on POSIX, so the backend reports "command not found" alike.
      const error = Object.assign(new Error(`spawn ${options.command} ENOENT`), {
        code: 'ENOENT',
        syscall: `spawn ${options.command}`,
        path: options.command,
      });
      this.#closed = true;
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const child = spawn(plan.file, plan.args, {
        env: options.env,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: !POSIX,
        ...(plan.windowsVerbatimArguments ? { windowsVerbatimArguments: true } : {}),
        // Its own process group (and session): signals reach everything it started. Not unref'd:
        // the gateway process stays up until its children are gone.
        detached: POSIX,
      });
      this.#child = child;
      let spawned = false;
      child.on('error', (error) => {
        if (!spawned) reject(error);
        this.onerror?.(error);
      });
      child.on('spawn', () => {
        spawned = true;
        const pid = child.pid!;
        if (POSIX) trackGroup(pid);
        this.#recorded = options.children?.add({
          pid,
          pgid: POSIX ? pid : null,
          command: options.command,
          backend: options.backend,
        });
        resolve();
      });
      child.on('exit', () => {
        this.#exited = true;
        const pid = child.pid;
        if (pid === undefined) return;
        if (POSIX) {
          liveGroups.delete(pid);
          this.#groupOutlived = this.#processes.signal(-pid, 0);
        }
        const registry = options.children;
        if (registry) this.#forgotten = (this.#recorded ?? Promise.resolve()).then(() => registry.remove(pid));
      });
      child.on('close', () => {
        this.#exited = true;
        this.#finish();
      });
      child.stdin.on('error', (error) => this.onerror?.(error));
      child.stdout.on('data', (chunk: Buffer) => this.#reader.push(chunk));
      child.stdout.on('error', (error) => this.onerror?.(error));
      child.stderr.pipe(this.stderr);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin) return Promise.reject(new Error('Not connected'));
    // The child's end (or ours) as the SDK's own ConnectionClosed: a request written just after a
    // server exited fails as "the process ended", as one written just before it does, whichever
    // of the pipe's close and the write came first (start-failure.ts reads the kind from it).
    if (this.#closed || this.#closing || !stdin.writable) return Promise.reject(pipeClosed());
    if (stdin.write(serializeMessage(message))) return Promise.resolve();
    // Backpressure: wait for the pipe to drain, but not past the child's end.
    return new Promise((resolve, reject) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', gone);
        resolve();
      };
      const gone = () => {
        stdin.off('drain', done);
        reject(pipeClosed());
      };
      stdin.once('drain', done);
      stdin.once('close', gone);
    });
  }

  close(): Promise<void> {
    const child = this.#child;
    if (!child) {
      this.#closed = true;
      return Promise.resolve();
    }
    this.#closing ??= this.#shutdown(child);
    return this.#closing;
  }

  /**
   * MCP spec, lifecycle (shutdown, stdio): close the child's stdin, wait for it to exit, then
   * SIGTERM, then SIGKILL. Signals go to its process group. Resolves once it is gone and its
   * record removed.
   */
  async #shutdown(child: ChildProcessWithoutNullStreams): Promise<void> {
    try {
      child.stdin.end();
    } catch {
      // Already closed.
    }
    if (!(await this.#waitExit(child))) {
      this.#signal(child, 'SIGTERM');
      if (!(await this.#waitExit(child))) {
        this.#signal(child, 'SIGKILL');
        await this.#waitExit(child);
      }
    }
    if (POSIX && this.#groupOutlived && child.pid !== undefined) await this.#stopLeftovers(child.pid);
    if (!this.#closed) {
      // A descendant that left the group (its own session) may hold our pipes open, or the child
      // did not even die of SIGKILL (stuck in the kernel): stop reading and report the end anyway.
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
      this.#finish();
    }
    await this.#forgotten;
  }

  /** The connection ended: onclose exactly once. */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.reset();
    this.onclose?.();
  }

  #waitExit(child: ChildProcessWithoutNullStreams): Promise<boolean> {
    if (this.#exited || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off('exit', exited);
        resolve(false);
      }, this.#graceMs);
      const exited = () => {
        clearTimeout(timer);
        resolve(true);
      };
      child.once('exit', exited);
    });
  }

  #signal(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
    if (POSIX && child.pid !== undefined) {
      this.#processes.signal(-child.pid, signal);
    } else {
      child.kill(signal);
    }
  }

  /**
   * The child exited but others of its group did not (it exited on EOF, what it started did not).
   * The group cannot have been taken over: a group id lives while any member does.
   */
  async #stopLeftovers(pgid: number): Promise<void> {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (!(await this.#processes.groupRunning(pgid))) return;
      this.#log.debug('stopping processes the backend left in its group', { pgid, signal });
      this.#processes.signal(-pgid, signal);
      const deadline = Date.now() + this.#graceMs;
      while (Date.now() < deadline && (await this.#processes.groupRunning(pgid))) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  #line(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      // Servers that print logs to stdout: report and read on, as the SDK does.
      this.onerror?.(new Error(`not a JSON-RPC message: ${describeError(error)}`, { cause: error }));
      return;
    }
    this.#deliver(message);
  }

  #deliver(message: JSONRPCMessage): void {
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error as Error);
    }
  }

  #oversized(line: OversizedLine): void {
    const { backend, maxMessageBytes } = this.#options;
    const envelope = recoverEnvelope(line.head, line.tail);
    const size = line.bytes >= 1024 ? `${formatBytes(line.bytes)} (${line.bytes} bytes)` : formatBytes(line.bytes);
    const limit = `its limit of ${formatBytes(maxMessageBytes)} (maxMessageBytes)`;
    const fields = { bytes: line.bytes, maxMessageBytes, kind: envelope.kind, id: envelope.id };
    if (envelope.id !== undefined && envelope.kind === 'response') {
      this.#log.warn('dropped a response over the size limit; its call fails', fields);
      const message =
        `Backend "${backend}" sent a ${size} response, more than ${limit}; it was dropped. ` +
        `Raise "maxMessageBytes" in this backend's configuration to accept it.`;
      // JSON-RPC 2.0 §5.1: -32603 internal error, answered for the request it belonged to.
      this.#deliver({
        jsonrpc: '2.0',
        id: envelope.id,
        error: {
          code: ProtocolErrorCode.InternalError,
          message,
          data: { backend, messageBytes: line.bytes, maxMessageBytes },
        },
      });
      return;
    }
    if (envelope.id !== undefined && envelope.kind === 'request') {
      // A request from the server (sampling, elicitation…) too large to read: tell it, so it does
      // not wait for an answer that cannot come.
      this.#log.warn('refused a request from the backend over the size limit', fields);
      void this.send({
        jsonrpc: '2.0',
        id: envelope.id,
        error: {
          code: ProtocolErrorCode.InvalidRequest,
          message: `Request of ${size} exceeds the client's limit of ${formatBytes(maxMessageBytes)}`,
        },
      }).catch(() => {});
      return;
    }
    // No id: a notification, or edges that did not show it. The caller's own timeout answers.
    this.#log.warn('dropped a message over the size limit', fields);
  }
}

function formatBytes(bytes: number): string {
  const MiB = 1024 * 1024;
  if (bytes >= MiB) return `${Number((bytes / MiB).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

function pipeClosed(): SdkError {
  return new SdkError(SdkErrorCode.ConnectionClosed, 'Connection closed');
}
