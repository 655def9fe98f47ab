import { mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { BackendStatus, BackendTestResult } from '../../src/api/contract.js';
import { createConsoleLogger } from '../../src/shared/logger.js';
import {
  connectClient,
  EVERYTHING,
  LOOPBACK_PRELOAD,
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  tempDir,
  text,
  TOY,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');
const NO_TEMPLATES = join(ROOT, 'test/fixtures/no-templates-server.mjs');

/** Every state change of every backend, in order (repeated reports of the same state dropped). */
function recordStates(gw: RunningGateway): Array<Pick<BackendStatus, 'name' | 'state' | 'since'>> {
  const seen: Array<Pick<BackendStatus, 'name' | 'state' | 'since'>> = [];
  gw.gateway.events.on('backend-state', ({ name, state, since }) => {
    const last = seen.findLast((entry) => entry.name === name);
    if (last?.state !== state) seen.push({ name, state, since });
  });
  return seen;
}

/** How long each restart waited: from going down to connecting again. */
function restartDelays(states: ReturnType<typeof recordStates>, name: string): number[] {
  const mine = states.filter((entry) => entry.name === name);
  const delays: number[] = [];
  for (let i = 1; i < mine.length; i++) {
    if (mine[i - 1]!.state === 'down' && mine[i]!.state === 'connecting')
      delays.push(mine[i]!.since - mine[i - 1]!.since);
  }
  return delays;
}

const status = (gw: RunningGateway, name: string) => gw.gateway.backendStatuses().find((s) => s.name === name)!;

async function callError(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

describe('the folder a stdio backend starts in', () => {
  it('is a private folder of its own in the data folder, never the gateway’s working directory', async () => {
    await using data = await tempDir('cortex-data-');
    await using gw = await startGateway({ 'my env': nodeBackend(ENV_SERVER) }, {}, { dataDir: data.path });
    await waitFor(() => status(gw, 'my env').state === 'ready', 'backend ready');
    await using session = await connectClient(gw.mcpUrl);
    const cwd = text(await session.client.callTool({ name: 'my_env__cwd', arguments: {} }));
    expect(cwd).toBe(await realpath(join(data.path, 'servers', 'my_env')));
    expect(cwd).not.toBe(process.cwd());
    expect((await stat(cwd)).mode & 0o777).toBe(0o700);
  });

  it('is the home folder when the gateway has no data folder', async () => {
    await using gw = await startGateway({ env: nodeBackend(ENV_SERVER) });
    await waitFor(() => status(gw, 'env').state === 'ready', 'backend ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'env__cwd', arguments: {} }))).toBe(await realpath(homedir()));
  });

  it('is the configured cwd: a relative one read from the config file’s folder, an absolute one as is', async () => {
    await using config = await tempDir('cortex-config-');
    await using elsewhere = await tempDir('cortex-elsewhere-');
    await mkdir(join(config.path, 'work'));
    const servers = {
      relative: nodeBackend(ENV_SERVER, [], {}, { cwd: 'work' }),
      absolute: nodeBackend(ENV_SERVER, [], {}, { cwd: elsewhere.path }),
    };
    const configPath = join(config.path, 'cortex.config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: servers }));
    await using data = await tempDir('cortex-data-');
    await using gw = await startGateway(servers, {}, { configPath, dataDir: data.path });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'relative__cwd', arguments: {} }))).toBe(
      await realpath(join(config.path, 'work')),
    );
    expect(text(await session.client.callTool({ name: 'absolute__cwd', arguments: {} }))).toBe(
      await realpath(elsewhere.path),
    );
  });

  it('must exist: a configured cwd that is not a folder is the backend’s error, naming the folder', async () => {
    await using config = await tempDir('cortex-config-');
    await using gw = await startGateway(
      { env: nodeBackend(ENV_SERVER, [], {}, { cwd: 'missing' }) },
      {},
      { configPath: join(config.path, 'cortex.config.json') },
    );
    const down = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.lastError), 'env failed');
    expect(down.lastError).toBe(`cwd: ${join(config.path, 'missing')} is not an existing folder`);
  });

  it('is the same for "Test connection" in the console', async () => {
    await using data = await tempDir('cortex-data-');
    await using gw = await startGateway({}, {}, { dataDir: data.path });
    const res = await fetch(new URL('/api/backends/probe/test', gw.mcpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(nodeBackend(ENV_SERVER, [], { ENV_PRINT_CWD: '1' })),
    });
    const result = ((await res.json()) as { value: BackendTestResult }).value;
    expect(result.status.state).toBe('ready');
    expect(result.stderr).toEqual([`cwd=${await realpath(join(data.path, 'servers', 'probe'))}`]);
  });
});

describe('restart backoff', () => {
  it('starts over once a restarted backend was ready: a second kill waits the base delay again', async () => {
    // random() = 1: each delay is exactly its exponential step (1 s, 2 s, 4 s…), no jitter.
    await using gw = await startGateway(
      { toy: nodeBackend(TOY) },
      { restartBaseMs: 1_000, restartMaxMs: 30_000 },
      { random: () => 1 },
    );
    const states = recordStates(gw);
    for (let kill = 1; kill <= 2; kill++) {
      const ready = await waitFor(() => (status(gw, 'toy').state === 'ready' ? status(gw, 'toy') : undefined), 'ready');
      process.kill(ready.pid!, 'SIGKILL');
      await waitFor(() => status(gw, 'toy').restartCount === kill && status(gw, 'toy').state === 'ready', 'back');
    }
    const delays = restartDelays(states, 'toy');
    expect(delays).toHaveLength(2);
    // Delays are differences of whole-millisecond Date.now() readings, and libuv times a timer from
    // the loop's cached time, so a 1,000 ms timer can measure 999 ms here: one millisecond of slack.
    expect(delays[0]).toBeGreaterThanOrEqual(999);
    // Without the reset the second restart would wait 2 s.
    expect(delays[1]).toBeGreaterThanOrEqual(999);
    expect(delays[1]).toBeLessThan(1_900);
  });

  it('keeps growing the delays of a crash loop that never gets ready, and gives up after maxRestarts', async () => {
    await using gw = await startGateway(
      { crashy: { command: process.execPath, args: ['-e', 'process.exit(1)'] } },
      { restartBaseMs: 100, restartMaxMs: 10_000, maxRestarts: 3 },
      { random: () => 1 },
    );
    const states = recordStates(gw);
    const gaveUp = await waitFor(
      () => (status(gw, 'crashy').lastError?.includes('gave up') ? status(gw, 'crashy') : undefined),
      'given up',
    );
    expect(gaveUp.lastError).toBe('process exited with code 1 during start-up (gave up after 3 restarts)');
    expect(gaveUp.restartCount).toBe(3);
    const delays = restartDelays(states, 'crashy');
    expect(delays).toHaveLength(3);
    // One millisecond of slack, as above (whole-millisecond readings, the loop's cached time).
    expect(delays[1]).toBeGreaterThanOrEqual(199);
    expect(delays[2]).toBeGreaterThanOrEqual(399);
  });
});

describe('a call to a backend that is still starting', () => {
  it('gets a retryable -32000 naming the backend; an unknown prefix or a ready backend gets Unknown tool', async () => {
    await using gw = await startGateway({
      slow: nodeBackend(TOY, [], { TOY_START_DELAY_MS: '60000' }),
      fast: nodeBackend(TOY),
    });
    await waitFor(() => status(gw, 'fast').state === 'ready', 'fast ready');
    expect(status(gw, 'slow').state).toBe('connecting');
    await using session = await connectClient(gw.mcpUrl);

    const starting = await callError(session.client.callTool({ name: 'slow__echo', arguments: { text: 'x' } }));
    expect(starting.code).toBe(-32000);
    expect(starting.message).toBe(
      'MCP error -32000: Backend "slow" is connecting and has not listed slow__echo yet; retry in a moment',
    );
    expect(starting.data).toEqual({ backend: 'slow', state: 'connecting', retryable: true });
    const prompt = await callError(session.client.getPrompt({ name: 'slow__greeting' }));
    expect(prompt.code).toBe(-32000);
    expect(prompt.data).toEqual({ backend: 'slow', state: 'connecting', retryable: true });

    const unknownPrefix = await callError(session.client.callTool({ name: 'nobody__echo', arguments: {} }));
    expect(unknownPrefix.code).toBe(-32602);
    expect(unknownPrefix.message).toContain('Unknown tool: nobody__echo');
    const readyWithout = await callError(session.client.callTool({ name: 'fast__no_such_tool', arguments: {} }));
    expect(readyWithout.code).toBe(-32602);
  });

  it('gets Unknown tool from a client not granted that backend: no hint that it exists', async () => {
    await using gw = await startGateway({
      slow: nodeBackend(TOY, [], { TOY_START_DELAY_MS: '60000' }),
      fast: nodeBackend(TOY),
    });
    const { token } = await gw.gateway.createPersonalToken({
      name: 'fast only',
      scopes: ['mcp:fast:write'],
      ttlSeconds: 60,
    });
    await using session = await connectClient(gw.mcpUrl, token);
    const refused = await callError(session.client.callTool({ name: 'slow__echo', arguments: { text: 'x' } }));
    expect(refused.code).toBe(-32602);
    expect(refused.message).toContain('Unknown tool: slow__echo');
    expect(refused.data).toBeUndefined();
  });

  it('gets the retryable error while a backend that never got ready waits to restart, Unknown tool once it gave up', async () => {
    const crashy = { crashy: { command: process.execPath, args: ['-e', 'process.exit(1)'] } };
    await using waiting = await startGateway(crashy, { restartBaseMs: 60_000, restartMaxMs: 60_000 });
    await waitFor(() => status(waiting, 'crashy').state === 'down', 'crashy down');
    await using first = await connectClient(waiting.mcpUrl);
    const restarting = await callError(first.client.callTool({ name: 'crashy__anything', arguments: {} }));
    expect(restarting.code).toBe(-32000);
    expect(restarting.data).toEqual({ backend: 'crashy', state: 'down', retryable: true });

    await using gaveUp = await startGateway(crashy, { maxRestarts: 1 });
    await waitFor(() => status(gaveUp, 'crashy').lastError?.includes('gave up'), 'crashy gave up');
    await using second = await connectClient(gaveUp.mcpUrl);
    const unknown = await callError(second.client.callTool({ name: 'crashy__anything', arguments: {} }));
    expect(unknown.code).toBe(-32602);
  });
});

describe('a remote backend that restarted and forgot our session', () => {
  it('is re-initialized on the first call after the restart, which succeeds (server-everything answers 400)', async () => {
    const args = ['--import', LOOPBACK_PRELOAD, EVERYTHING, 'streamableHttp'];
    const server = await spawnListening(args);
    // Pings far apart: the gateway only learns of the restart from the call itself.
    await using gw = await startGateway(
      { remote: { type: 'http', url: server.url.href } },
      { pingIntervalMs: 600_000 },
    );
    await waitFor(() => status(gw, 'remote').state === 'ready', 'remote ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'remote__echo', arguments: { message: 'before' } }))).toContain(
      'before',
    );

    await server[Symbol.asyncDispose]();
    await using again = await spawnListening(args, { LOOPBACK_PORT: String(server.port) });
    expect(again.port).toBe(server.port);
    expect(status(gw, 'remote')).toMatchObject({ state: 'ready', restartCount: 0 });

    const result = await session.client.callTool({ name: 'remote__echo', arguments: { message: 'after' } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain('after');
    expect(status(gw, 'remote').state).toBe('ready');
  });

  it('is re-initialized likewise when the server answers 404 for the old session (MCP spec)', async () => {
    const server = await spawnListening([TOY], { TOY_HTTP: '1' });
    await using gw = await startGateway({ web: { type: 'http', url: server.url.href } }, { pingIntervalMs: 600_000 });
    await waitFor(() => status(gw, 'web').state === 'ready', 'web ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'web__echo', arguments: { text: 'before' } }))).toBe('before');

    await server[Symbol.asyncDispose]();
    await using again = await spawnListening([TOY], { TOY_HTTP: '1', TOY_PORT: String(server.port) });
    expect(again.port).toBe(server.port);
    // Several calls at once: one new session serves them all.
    const results = await Promise.all(
      ['a', 'b', 'c'].map((t) => session.client.callTool({ name: 'web__echo', arguments: { text: t } })),
    );
    expect(results.map(text)).toEqual(['a', 'b', 'c']);
    expect(status(gw, 'web').state).toBe('ready');
  });
});

describe('optional list methods', () => {
  it('counts a list method the server lacks (-32601) as empty: the backend comes up ready with its tools', async () => {
    const logs: string[] = [];
    await using gw = await startGateway(
      { plain: nodeBackend(NO_TEMPLATES) },
      {},
      { logger: createConsoleLogger({ level: 'debug', write: (line) => logs.push(line) }) },
    );
    const settled = await waitFor(
      () => (status(gw, 'plain').state !== 'connecting' ? status(gw, 'plain') : undefined),
      'plain settled',
    );
    expect(settled).toMatchObject({ state: 'ready', restartCount: 0, toolCount: 1, promptCount: 0, resourceCount: 1 });
    expect(settled.lastError).toBeUndefined();
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'plain__hello', arguments: {} }))).toBe('hello from hello');
    expect((await session.client.listResources()).resources.map((r) => r.uri)).toEqual(['note://one']);
    const noted = logs.filter((line) => line.includes('optional list method not implemented'));
    expect(noted.map((line) => /method=(\S+)/.exec(line)?.[1]).sort()).toEqual([
      'prompts/list',
      'resources/templates/list',
    ]);
  });
});

describe('health figures', () => {
  it('shows no latency until the first ping answers, then the ping round-trip, not start-up time', async () => {
    await using gw = await startGateway(
      { toy: nodeBackend(TOY, [], { TOY_START_DELAY_MS: '1500' }) },
      { pingIntervalMs: 600_000 },
    );
    const reports: BackendStatus[] = [];
    gw.gateway.events.on('backend-state', (s) => reports.push(s));
    const measured = await waitFor(
      () => (status(gw, 'toy').latencyMs !== undefined ? status(gw, 'toy') : undefined),
      'a latency figure',
    );
    const firstReady = reports.find((s) => s.state === 'ready')!;
    expect(firstReady.latencyMs).toBeUndefined();
    // Start-up took over 1.5 s; a ping over a pipe takes milliseconds.
    expect(measured.latencyMs).toBeLessThan(1_000);
    await using session = await connectClient(gw.mcpUrl);
    const whoami = (await session.client.callTool({ name: 'whoami', arguments: {} })).structuredContent as {
      backends: Array<{ latencyMs?: number }>;
    };
    expect(whoami.backends[0]!.latencyMs).toBeLessThan(1_000);
  });

  it('counts only the tools the owner left on, in the status and in whoami', async () => {
    await using gw = await startGateway({
      toy: nodeBackend(TOY, [], {}, { tools: { echo: { enabled: false }, hang: { enabled: false } } }),
    });
    // The toy server has 7 tools; 2 are turned off.
    const ready = await waitFor(() => (status(gw, 'toy').state === 'ready' ? status(gw, 'toy') : undefined), 'ready');
    expect(ready.toolCount).toBe(5);
    await using session = await connectClient(gw.mcpUrl);
    const whoami = (await session.client.callTool({ name: 'whoami', arguments: {} })).structuredContent as {
      backends: Array<{ toolCount: number }>;
    };
    expect(whoami.backends[0]!.toolCount).toBe(5);
    const listed = (await session.client.listTools()).tools.filter((t) => t.name.startsWith('toy__'));
    expect(listed).toHaveLength(5);
  });

  it('names the exit code or the signal in lastError, with the last stderr lines apart', async () => {
    await using gw = await startGateway({ env: nodeBackend(ENV_SERVER, [], { ENV_PRINT: 'MARK', MARK: 'hello' }) });
    const downs: BackendStatus[] = [];
    gw.gateway.events.on('backend-state', (s) => {
      if (s.state === 'down') downs.push(s);
    });
    await waitFor(() => status(gw, 'env').state === 'ready', 'env ready');
    await using session = await connectClient(gw.mcpUrl);
    await session.client.callTool({ name: 'env__exit', arguments: { code: 7 } });
    await waitFor(() => downs.length === 1, 'env down');
    expect(downs[0]).toMatchObject({ lastError: 'process exited with code 7', lastStderr: ['MARK=hello'] });

    const back = await waitFor(
      () =>
        status(gw, 'env').state === 'ready' && status(gw, 'env').restartCount === 1 ? status(gw, 'env') : undefined,
      'env back',
    );
    expect(back.lastError).toBeUndefined();
    expect(back.lastStderr).toBeUndefined();
    process.kill(back.pid!, 'SIGKILL');
    await waitFor(() => downs.length === 2, 'env down again');
    expect(downs[1]).toMatchObject({ lastError: 'killed by SIGKILL', lastStderr: ['MARK=hello'] });
  });
});
