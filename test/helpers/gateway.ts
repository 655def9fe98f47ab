import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfig } from '../../src/config/load.js';
import { createGateway, type Gateway, type GatewayAddress, type GatewayDeps } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const ROOT = resolve(here, '../..');

function packageFile(name: string, file: string): string {
  return join(dirname(require.resolve(`${name}/package.json`)), file);
}

export const EVERYTHING = packageFile('@modelcontextprotocol/server-everything', 'dist/index.js');
/** server-memory's script. Run it through memoryBackend(), which keeps its data out of node_modules. */
export const MEMORY = packageFile('@modelcontextprotocol/server-memory', 'dist/index.js');
export const TOY = join(ROOT, 'test/fixtures/toy-server.mjs');
export const LOOPBACK_PRELOAD = join(ROOT, 'test/fixtures/loopback-listen.mjs');
export const CLI = join(ROOT, 'src/cli/main.ts');

/** A stdio backend entry running a node script with the current node binary. */
export function nodeBackend(script: string, args: string[] = [], env: Record<string, string> = {}, extra = {}) {
  return { command: process.execPath, args: [script, ...args], env, ...extra };
}

/**
 * server-memory with its knowledge graph in `file`. Without MEMORY_FILE_PATH it keeps the graph
 * next to its own script, inside node_modules, where tests would read and rewrite a user's data
 * and `npm ci` would delete it: no test may run it that way.
 */
export function memoryBackend(file: string) {
  return nodeBackend(MEMORY, [], { MEMORY_FILE_PATH: file });
}

export interface TempDir extends AsyncDisposable {
  path: string;
}

/** A fresh folder under the system's temp folder, removed with everything in it on dispose. */
export async function tempDir(prefix = 'cortex-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}

export interface RunningGateway extends AsyncDisposable {
  gateway: Gateway;
  address: GatewayAddress;
  mcpUrl: URL;
  /** A personal access token with every scope, for tests that are not about authorization. */
  token: string;
}

/** Tokens of gateways started by the helpers, so connectClient(url) can authenticate. */
const tokens = new Map<string, string>();

/** Starts a gateway in-process on 127.0.0.1:0 with the given `mcpServers` and gateway settings. */
export async function startGateway(
  mcpServers: Record<string, unknown>,
  gateway: Record<string, unknown> = {},
  deps: GatewayDeps = {},
): Promise<RunningGateway> {
  const config = parseConfig({ mcpServers, gateway: { port: 0, restartBaseMs: 50, restartMaxMs: 500, ...gateway } });
  const instance = createGateway(config, deps);
  const address = await instance.start();
  const { token } = await instance.createPersonalToken({ name: 'tests', scopes: ['*'], ttlSeconds: 3600 });
  tokens.set(address.mcpUrl, token);
  return {
    gateway: instance,
    address,
    mcpUrl: new URL(address.mcpUrl),
    token,
    async [Symbol.asyncDispose]() {
      tokens.delete(address.mcpUrl);
      await instance.stop();
    },
  };
}

export interface ConnectedClient extends AsyncDisposable {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

/** Connects the SDK client with the token of a helper-started gateway, or the given one. */
export async function connectClient(
  url: URL,
  token = tokens.get(url.href),
  name = 'test-client',
): Promise<ConnectedClient> {
  const client = new Client({ name, version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
  return {
    client,
    transport,
    async [Symbol.asyncDispose]() {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export interface ListeningProcess extends AsyncDisposable {
  child: ChildProcess;
  port: number;
  url: URL;
}

/** Spawns a server that prints "LISTENING <port>" and resolves once it does. */
export function spawnListening(
  args: string[],
  env: Record<string, string> = {},
  path = '/mcp',
): Promise<ListeningProcess> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${output}`));
    }, 15_000);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${output}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /LISTENING (\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      const port = Number(match[1]);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolvePromise({
        child,
        port,
        url: new URL(`http://127.0.0.1:${port}${path}`),
        async [Symbol.asyncDispose]() {
          if (child.exitCode !== null) return;
          child.removeAllListeners('exit');
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Text of the first content block of a tool result. */
export function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content[0]?.text ?? '';
}
