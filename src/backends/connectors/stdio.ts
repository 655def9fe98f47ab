import { homedir } from 'node:os';
import type { NamedBackendConfig, StdioBackendConfig } from '../../config/schema.js';
import { plainSecretValues, resolveSecretRefs } from '../../config/secret-refs.js';
import type { Logger } from '../../shared/logger.js';
import { createSecretMasker } from '../../shared/redact.js';
import type { SecretStore } from '../../store/secrets.js';
import type { ChildRegistry } from '../child-registry.js';
import { childEnvironment, resolveCommand } from '../environment.js';
import { StdioTransport } from '../stdio-transport.js';
import { backendWorkingDir } from '../working-dir.js';

/** How a stdio child ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StdioConnectorOptions {
  name: string;
  log: Logger;
  secrets?: SecretStore | undefined;
  children?: ChildRegistry | undefined;
  dataDir?: string | undefined;
  configDir?: string | undefined;
  home?: string | undefined;
  platform?: NodeJS.Platform | undefined;
  parentEnv?: NodeJS.ProcessEnv | undefined;
  /**
   * Receives, before anything can fail with them in its text, the masker of the secret values this
   * child is given (stored ones, and credential-looking values written in plain text).
   */
  useMask: (mask: (text: string) => string) => void;
  /** Each complete stderr line of the child, as printed (the caller masks and keeps it). */
  onStderrLine: (line: string) => void;
}

/** Longest partial stderr line kept while waiting for its end; longer ones are cut into lines. */
const MAX_PARTIAL_LINE = 4096;

/**
 * How to start one stdio backend (the transport, not yet started: the SDK client's connect() spawns it): its `${secret:…}` env references resolved (at each start, never
 * kept), the folder it runs in, the environment it inherits, and its stderr cut into lines.
 */
export async function connectStdio(
  config: NamedBackendConfig & StdioBackendConfig,
  options: StdioConnectorOptions,
): Promise<StdioTransport> {
  const found = plainSecretValues(config.env);
  const env = await resolveSecretRefs(config.env, options.secrets, 'env', found);
  options.useMask(createSecretMasker(found));
  const cwd = await backendWorkingDir(config, {
    dataDir: options.dataDir,
    configDir: options.configDir,
    home: options.home,
  });
  const platform = options.platform ?? process.platform;
  const transport = new StdioTransport({
    command: resolveCommand(config.command, platform),
    args: config.args,
    env: childEnvironment(env, platform, options.home ?? homedir(), options.parentEnv ?? process.env),
    cwd,
    backend: options.name,
    maxMessageBytes: config.maxMessageBytes,
    logger: options.log,
    ...(options.children ? { children: options.children } : {}),
  });
  let partial = '';
  transport.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
    partial = lines.pop() ?? '';
    if (partial.length > MAX_PARTIAL_LINE) {
      lines.push(partial);
      partial = '';
    }
    for (const line of lines) if (line) options.onStderrLine(line);
  });
  return transport;
}

/** Reads how a stdio child ended, for `lastError` (the transport keeps its child's exit status). */
export function exitStatusReader(transport: StdioTransport): () => ExitStatus | undefined {
  return () => {
    const { exitCode, signalCode } = transport;
    if (exitCode === null && signalCode === null) return undefined;
    return { code: exitCode, signal: signalCode };
  };
}

/** `process exited with code 1`, `killed by SIGKILL`, or `process exited` when the status is unknown. */
export function describeExit(exit: ExitStatus | undefined): string {
  if (exit?.signal) return `killed by ${exit.signal}`;
  if (exit?.code != null) return `process exited with code ${exit.code}`;
  return 'process exited';
}
