import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { childrenDir, type ChildRecord } from '../../src/backends/child-registry.js';
import { processRunning, processStartTime, systemProcesses } from '../../src/shared/processes.js';
import { CLI, connectClient, nodeBackend, ROOT, startGateway, text, waitFor } from '../helpers/gateway.js';
import { exitedPid } from '../helpers/processes.js';

const BIG = join(ROOT, 'test/fixtures/big-server.mjs');
const MiB = 1024 * 1024;
const posix = process.platform !== 'win32';

describe('stdio backends: message size', () => {
  it('fails only the call whose result is over maxMessageBytes; the backend and the call in flight carry on', async () => {
    await using gw = await startGateway({ big: nodeBackend(BIG, [], {}, { maxMessageBytes: 16 * MiB }) });
    const before = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'big ready');
    await using session = await connectClient(gw.mcpUrl);

    // In flight on the same backend (and the same pipe) while the oversized result arrives.
    const held = session.client.callTool({ name: 'big__hold', arguments: {} });
    const error = await session.client.callTool({ name: 'big__big', arguments: { bytes: 20 * MiB } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32603);
    expect((error as McpError).message).toMatch(
      /^MCP error -32603: Backend "big" sent a 20 MiB \(\d+ bytes\) response, more than its limit of 16 MiB \(maxMessageBytes\); it was dropped\. Raise "maxMessageBytes"/,
    );

    const after = gw.gateway.backendStatuses().find((s) => s.name === 'big')!;
    expect(after.state).toBe('ready');
    expect(after.pid).toBe(before.pid);
    expect(after.restartCount).toBe(before.restartCount);
    // The next call works, and releases the held one, which was not failed with the big one.
    expect(text(await session.client.callTool({ name: 'big__release', arguments: {} }))).toBe('1');
    expect(text(await held)).toBe('released');
    expect(text(await session.client.callTool({ name: 'big__echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
  });

  it('relays a 12 MiB result whole with the default limit (the SDK transport stopped at 10 MiB)', async () => {
    await using gw = await startGateway({ big: nodeBackend(BIG) });
    const before = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'big ready');
    await using session = await connectClient(gw.mcpUrl);
    const result = await session.client.callTool({ name: 'big__big', arguments: { bytes: 12 * MiB } });
    const body = text(result);
    expect(body.length).toBe(12 * MiB);
    expect(/^x+$/.test(body)).toBe(true);
    expect(gw.gateway.backendStatuses()[0]!.pid).toBe(before.pid);
  });
});

describe.skipIf(!posix)('stdio backends: process groups and leftovers', () => {
  let dir: string;
  const spawned: ChildProcess[] = [];
  const pids = new Set<number>();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-children-'));
  });
  afterEach(async () => {
    for (const child of spawned.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of pids) systemProcesses.signal(pid, 'SIGKILL');
    pids.clear();
    await rm(dir, { recursive: true, force: true });
  });

  /** A process that does nothing until killed; it leads its own group, as a recorded child would. */
  function harmless(): ChildProcess {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
    spawned.push(child);
    return child;
  }

  async function writeRecord(dataDir: string, record: Partial<ChildRecord> & { pid: number }): Promise<string> {
    const folder = childrenDir(dataDir);
    await mkdir(folder, { recursive: true });
    const path = join(folder, `${record.pid}.json`);
    const full: ChildRecord = {
      pgid: null,
      startTime: null,
      command: 'node',
      backend: 'old',
      gatewayPid: await exitedPid(),
      gatewayStartTime: 'long ago',
      spawnedAt: new Date().toISOString(),
      ...record,
    };
    await writeFile(path, JSON.stringify(full));
    return path;
  }

  const exists = (path: string) =>
    readFile(path).then(
      () => true,
      () => false,
    );

  it('stops what a backend started in its process group when the backend stops', async () => {
    await using gw = await startGateway({ big: nodeBackend(BIG, [], { BIG_GRANDCHILD: '1' }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'big ready');
    await using session = await connectClient(gw.mcpUrl);
    const helper = Number(text(await session.client.callTool({ name: 'big__helper_pid', arguments: {} })));
    pids.add(helper);
    expect(await processRunning(helper)).toBe(true);
    await gw.gateway.stop();
    expect(await processRunning(helper)).toBe(false);
  });

  it('records each running child in the data folder and removes the record when it stops', async () => {
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    await using gw = await startGateway({ big: nodeBackend(BIG) }, {}, { dataDir });
    const ready = await waitFor(() => gw.gateway.backendStatuses().find((s) => s.state === 'ready'), 'big ready');
    const path = join(childrenDir(dataDir), `${ready.pid}.json`);
    const record = await waitFor(
      async () => JSON.parse(await readFile(path, 'utf8')) as ChildRecord,
      'the child record',
    );
    expect(record).toMatchObject({
      pid: ready.pid,
      pgid: ready.pid,
      startTime: await processStartTime(ready.pid!),
      command: process.execPath,
      backend: 'big',
      gatewayPid: process.pid,
      gatewayStartTime: await processStartTime(process.pid),
    });
    await gw.gateway.stop();
    expect(await exists(path)).toBe(false);
  });

  it('never signals a recorded pid whose start time differs: a reused pid belongs to a stranger', async () => {
    const dataDir = join(dir, 'data');
    const stranger = harmless();
    await new Promise((resolve) => stranger.once('spawn', resolve));
    const path = await writeRecord(dataDir, { pid: stranger.pid!, pgid: stranger.pid!, startTime: 'another process' });
    await using gw = await startGateway({}, {}, { dataDir });
    expect(gw.address.port).toBeGreaterThan(0);
    expect(await processRunning(stranger.pid!)).toBe(true);
    // The record described a process that is gone: it is removed.
    expect(await exists(path)).toBe(false);
  });

  it('leaves the children of a gateway that still runs alone', async () => {
    const dataDir = join(dir, 'data');
    const child = harmless();
    await new Promise((resolve) => child.once('spawn', resolve));
    const path = await writeRecord(dataDir, {
      pid: child.pid!,
      pgid: child.pid!,
      startTime: (await processStartTime(child.pid!))!,
      // This test process stands in for another gateway running on the same data folder.
      gatewayPid: process.pid,
      gatewayStartTime: (await processStartTime(process.pid))!,
    });
    await using gw = await startGateway({}, {}, { dataDir });
    expect(gw.address.port).toBeGreaterThan(0);
    expect(await processRunning(child.pid!)).toBe(true);
    expect(await exists(path)).toBe(true);
  });

  it('stops, at the next start, a child that a gateway killed with SIGKILL left running', async () => {
    const tag = `orphan-test-${randomBytes(4).toString('hex')}`;
    const configPath = join(dir, 'cortex.config.json');
    const dataDir = join(dir, 'data');
    // Keeps running after stdin closes: only a signal stops it.
    await writeFile(
      configPath,
      JSON.stringify({ mcpServers: { stubborn: nodeBackend(BIG, [tag], { BIG_KEEP_ALIVE: '1' }) } }),
    );

    /** Runs `serve` on the data folder and resolves with its pid once ready. */
    const serve = async (name: string) => {
      const readyFile = join(dir, `${name}.json`);
      const args = ['serve', '--config', configPath, '--data-dir', dataDir, '--ready-file', readyFile, '--port', '0'];
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      spawned.push(child);
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout!.resume();
      await waitFor(async () => JSON.parse(await readFile(readyFile, 'utf8')) as unknown, `${name} ready (${stderr})`);
      return { child, stderr: () => stderr };
    };
    /** Running processes of this test's backend (zombies awaiting a reaper excluded). */
    const backendPids = () =>
      execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(tag) && !/^\s*\d+\s+Z/.test(line))
        .map((line) => Number(line.trim().split(/\s+/)[0]));
    const recorded = async () =>
      (await readdir(childrenDir(dataDir)).catch(() => [] as string[])).map((name) => Number(name.split('.')[0]));

    const first = await serve('first');
    const [orphan] = await waitFor(async () => {
      const [pid] = await recorded();
      return pid !== undefined && backendPids().includes(pid) ? [pid] : undefined;
    }, 'the first child');
    pids.add(orphan!);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // It survived its gateway: reparented (to PID 1 or a subreaper), still running.
    const ppid = async () => Number((await readFile(`/proc/${orphan}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]);
    if (process.platform === 'linux') await waitFor(async () => (await ppid()) !== first.child.pid, 'reparented');
    expect(await processRunning(orphan!)).toBe(true);
    expect(backendPids()).toEqual([orphan]);

    const second = await serve('second');
    await waitFor(async () => !(await processRunning(orphan!)), `the orphan stopped (${second.stderr()})`);
    const [fresh] = await waitFor(async () => {
      const running = backendPids();
      return running.length === 1 && running[0] !== orphan ? running : undefined;
    }, 'exactly one new child');
    pids.add(fresh!);
    expect(await recorded()).toEqual([fresh]);
    expect(second.stderr()).toContain('stopping a backend child left running by a gateway that did not stop cleanly');

    // A clean stop leaves nothing behind and no record.
    const exited = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGTERM');
    await exited;
    expect(await processRunning(fresh!)).toBe(false);
    expect(await recorded()).toEqual([]);
  });
});
