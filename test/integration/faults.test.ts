import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GATEWAY_ERROR_CODES } from '../../src/mcp/wire-errors.js';
import {
  connectClient,
  isAlive,
  memoryBackend,
  nodeBackend,
  startGateway,
  tempDir,
  text,
  TOY,
  waitFor,
} from '../helpers/gateway.js';

describe('backend faults', () => {
  it('fails an in-flight call clearly when its stdio child dies, restarts it, and leaves the other backend alone', async () => {
    await using data = await tempDir('cortex-memory-');
    await using gw = await startGateway({
      toy: nodeBackend(TOY),
      memory: memoryBackend(join(data.path, 'memory.jsonl')),
    });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready');
    await using session = await connectClient(gw.mcpUrl);
    const before = Object.fromEntries(gw.gateway.backendStatuses().map((s) => [s.name, s]));
    const toyPid = before.toy!.pid!;
    const memoryPid = before.memory!.pid!;
    expect(text(await session.client.callTool({ name: 'toy__pid', arguments: {} }))).toBe(String(toyPid));

    const pending = session.client.callTool({ name: 'toy__hang', arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(toyPid, 'SIGKILL');

    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(GATEWAY_ERROR_CODES.backendUnavailable);
    expect((error as McpError).message).toBe(
      'MCP error -32000: Backend "toy" is down (killed by SIGKILL); tools/call did not complete',
    );

    const restarted = await waitFor(() => {
      const status = gw.gateway.backendStatuses().find((s) => s.name === 'toy');
      return status?.state === 'ready' && status.pid !== toyPid ? status : undefined;
    }, 'toy restarted');
    expect(restarted.restartCount).toBe(1);
    expect(isAlive(toyPid)).toBe(false);
    expect(text(await session.client.callTool({ name: 'toy__pid', arguments: {} }))).toBe(String(restarted.pid));

    const memory = gw.gateway.backendStatuses().find((s) => s.name === 'memory')!;
    expect(memory.pid).toBe(memoryPid);
    expect(memory.restartCount).toBe(0);
    expect(memory.state).toBe('ready');
    const graph = await session.client.callTool({ name: 'memory__read_graph', arguments: {} });
    expect(graph.isError).toBeFalsy();
  });

  it('fails fast, naming the backend and its state, while a backend is down', async () => {
    await using gw = await startGateway(
      { toy: nodeBackend(TOY) },
      // A long backoff keeps the backend down long enough to call it.
      { restartBaseMs: 5_000, restartMaxMs: 5_000 },
    );
    const ready = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    process.kill(ready.pid!, 'SIGKILL');
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'down', 'toy down');
    const started = Date.now();
    await expect(session.client.callTool({ name: 'toy__echo', arguments: { text: 'x' } })).rejects.toThrow(
      /Backend "toy" is down: killed by SIGKILL/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a call to a backend that hangs, with an error naming it and the limit', async () => {
    await using gw = await startGateway({ toy: nodeBackend(TOY, [], {}, { timeoutMs: 300 }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    const error = await session.client.callTool({ name: 'toy__hang', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as McpError,
    );
    expect(error?.code).toBe(GATEWAY_ERROR_CODES.backendTimeout);
    expect(error?.message).toMatch(/Backend "toy" did not answer tools\/call within 300 ms/);
    // The backend itself is still fine afterwards.
    expect(text(await session.client.callTool({ name: 'toy__echo', arguments: { text: 'ok' } }))).toBe('ok');
  });

  it('marks a backend whose command does not exist as down with the spawn error; the gateway is fine', async () => {
    await using gw = await startGateway({
      broken: { command: 'cortex-no-such-command-xyz' },
      toy: nodeBackend(TOY),
    });
    const broken = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.name === 'broken' && s.state === 'down'),
      'broken down',
    );
    expect(broken.lastError).toMatch(/command not found: cortex-no-such-command-xyz/);
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'toy')?.state === 'ready', 'toy ready');
    await using session = await connectClient(gw.mcpUrl);
    const whoami = await session.client.callTool({ name: 'whoami', arguments: {} });
    const report = whoami.structuredContent as { backends: Array<{ name: string; state: string; lastError?: string }> };
    expect(report.backends.find((b) => b.name === 'broken')).toMatchObject({ state: 'down' });
    expect(text(await session.client.callTool({ name: 'toy__echo', arguments: { text: 'fine' } }))).toBe('fine');
  });

  it('reports a child that exits during start-up with its exit code, and its stderr apart', async () => {
    await using gw = await startGateway({
      crashy: {
        command: process.execPath,
        args: ['-e', 'console.error("starting"); console.error("missing API_KEY"); process.exit(3)'],
      },
    });
    const status = await waitFor(
      () => gw.gateway.backendStatuses().find((s) => s.state === 'down' && s.lastError),
      'crashy down',
    );
    expect(status.lastError).toBe('process exited with code 3 during start-up');
    expect(status.lastStderr).toEqual(['starting', 'missing API_KEY']);
  });

  it('answers builtins at once while every backend is still starting, however slow they are', async () => {
    const slow = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`slow${i}`, nodeBackend(TOY, [], { TOY_START_DELAY_MS: '20000' })]),
    );
    await using gw = await startGateway(slow);
    await using session = await connectClient(gw.mcpUrl);
    const whoami = await session.client.callTool({ name: 'whoami', arguments: {} });
    const report = whoami.structuredContent as { backends: Array<{ state: string }> };
    expect(report.backends).toHaveLength(10);
    expect(report.backends.every((b) => b.state === 'connecting')).toBe(true);
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['whoami', 'find_tools']);
  });

  it('restarts with growing delays and says so in the state', async () => {
    await using gw = await startGateway(
      { crashy: { command: process.execPath, args: ['-e', 'process.exit(1)'] } },
      { restartBaseMs: 20, restartMaxMs: 200 },
    );
    const status = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.restartCount >= 3), 'three restarts');
    expect(['down', 'connecting']).toContain(status.state);
  });

  it('stops children that are still starting (not yet reading stdin): no orphans', async () => {
    const gw = await startGateway({
      a: nodeBackend(TOY, [], { TOY_START_DELAY_MS: '30000' }),
      b: nodeBackend(TOY, [], { TOY_START_DELAY_MS: '30000' }),
    });
    const pids = await waitFor(() => {
      const statuses = gw.gateway.backendStatuses();
      return statuses.every((s) => s.pid !== undefined) ? statuses.map((s) => s.pid!) : undefined;
    }, 'children spawned');
    expect(gw.gateway.backendStatuses().every((s) => s.state === 'connecting')).toBe(true);
    await gw[Symbol.asyncDispose]();
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('stops every child on stop(): no orphans', async () => {
    await using data = await tempDir('cortex-memory-');
    const gw = await startGateway({
      a: nodeBackend(TOY),
      b: nodeBackend(TOY),
      c: memoryBackend(join(data.path, 'memory.jsonl')),
    });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'ready');
    const pids = gw.gateway.backendStatuses().map((s) => s.pid!);
    expect(pids.every(isAlive)).toBe(true);
    await gw[Symbol.asyncDispose]();
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 'children gone', 5_000);
  });
});
