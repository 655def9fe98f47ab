// One gateway per data folder: a second start is refused and leaves the first alone; a lock left by
// a crash (or naming a reused pid) is taken over; runtime.json is removed only by its writer.
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGatewayInstance } from '../../src/host.js';
import { createGateway } from '../../src/index.js';
import { readRuntimeInfo, runtimeFilePath } from '../../src/runtime-file.js';
import { processStartTime } from '../../src/shared/processes.js';
import { InstanceLockedError, instanceLockPath, type InstanceLockRecord } from '../../src/store/instance-lock.js';
import { isAlive, TOY, waitFor } from '../helpers/gateway.js';
import { spawnCliIn, type CliRun } from '../helpers/home-cli.js';
import { raceForLock } from '../helpers/lock-race.js';
import { exitedPid } from '../helpers/processes.js';

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const readLock = async (dataDir: string) =>
  JSON.parse(await readFile(instanceLockPath(dataDir), 'utf8')) as InstanceLockRecord;

interface Served extends AsyncDisposable {
  child: ChildProcess;
  ready: { mcpUrl: string; consoleUrl: string; pid: number };
  stderr: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

// Each case starts several CLI processes (through tsx): slow on a loaded two-core machine.
describe('one gateway per data folder (cortex-gateway serve)', { timeout: 120_000 }, () => {
  let home: string;
  let dataDir: string;
  let serial = 0;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-one-'));
    dataDir = join(home, 'cortex-data');
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** `serve` in the temporary HOME; resolves once its ready file is written. */
  async function serve(args: string[] = ['--port', '0']): Promise<Served> {
    const readyFile = join(home, `ready-${++serial}.json`);
    const child = spawnCliIn(home, ['serve', '--ready-file', readyFile, ...args]);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.resume();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    try {
      const ready = await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
          return JSON.parse(await readFile(readyFile, 'utf8')) as Served['ready'];
        },
        `ready file (stderr: ${stderr})`,
        60_000,
      );
      return { child, ready, stderr: () => stderr, stop, [Symbol.asyncDispose]: async () => void (await stop()) };
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** A CLI run to completion; a serve that is wrongly not refused is killed rather than left running. */
  function cli(args: string[], timeoutMs = 20_000): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = spawnCliIn(home, args);
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** A config whose one backend appends its pid to `marks` when it starts: counts backend starts. */
  async function configWithMarkedBackend(): Promise<string> {
    const marks = join(home, 'backend-starts.txt');
    const preload = join(home, 'mark.mjs');
    await writeFile(
      preload,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(process.env.MARKS, process.pid + '\\n');\n`,
    );
    await mkdir(dataDir, { recursive: true });
    const backend = {
      command: process.execPath,
      args: ['--import', pathToFileURL(preload).href, TOY],
      env: { MARKS: marks },
    };
    await writeFile(join(dataDir, 'cortex.config.json'), JSON.stringify({ mcpServers: { toy: backend } }));
    return marks;
  }
  const startsIn = async (marks: string) =>
    (await readFile(marks, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  it('refuses a second serve, naming the running one; the first keeps its files and answers the CLI', async () => {
    const marks = await configWithMarkedBackend();
    await using first = await serve();
    await waitFor(async () => (await startsIn(marks)) === 1, 'first backend started');
    const runtimeBefore = await readFile(runtimeFilePath(dataDir), 'utf8');
    const lockBefore = await readFile(instanceLockPath(dataDir), 'utf8');

    // No --port: the default one, which used to fall back to 3591 with a second set of backends.
    const second = await cli(['serve', '--ready-file', join(home, 'second-ready.json')]);
    expect(second.code).toBe(75); // already_running: EX_TEMPFAIL
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`a gateway is already running for ${dataDir}`);
    expect(lines[0]).toContain(`pid ${first.ready.pid}`);
    expect(lines[0]).toContain(first.ready.mcpUrl);
    expect(lines[0]).toContain('--data-dir');
    expect(await exists(join(home, 'second-ready.json'))).toBe(false);
    expect(await readFile(runtimeFilePath(dataDir), 'utf8')).toBe(runtimeBefore);
    expect(await readFile(instanceLockPath(dataDir), 'utf8')).toBe(lockBefore);
    expect(await startsIn(marks)).toBe(1);

    const login = await cli(['login']);
    expect(login.code).toBe(0);
    expect(login.stdout.trim().startsWith(`${new URL(first.ready.mcpUrl).origin}/app/login?token=`)).toBe(true);
    const token = await cli(['token', 'create', '--scope', '*', '--ttl', '1h']);
    expect(token.code).toBe(0);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    expect(isAlive(first.ready.pid)).toBe(true);
  });

  it('runs a second gateway beside the first with its own --data-dir', async () => {
    await using _first = await serve();
    await using other = await serve(['--port', '0', '--data-dir', join(home, 'other-data')]);
    expect((await readLock(join(home, 'other-data'))).pid).toBe(other.ready.pid);
  });

  it('releases the lock and removes its runtime.json on SIGTERM, SIGINT and SIGHUP', async () => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const running = await serve();
      expect(await readLock(dataDir)).toMatchObject({
        pid: running.ready.pid,
        app: 'cli',
        mcpUrl: running.ready.mcpUrl,
        port: Number(new URL(running.ready.mcpUrl).port),
      });
      expect(await running.stop(signal), signal).toBe(0);
      expect(await exists(instanceLockPath(dataDir)), signal).toBe(false);
      expect(await exists(runtimeFilePath(dataDir)), signal).toBe(false);
    }
  });

  it('takes over the lock of a serve killed with SIGKILL', async () => {
    const killed = await serve();
    expect(await killed.stop('SIGKILL')).toBe(null);
    expect((await readLock(dataDir)).pid).toBe(killed.ready.pid);

    await using next = await serve();
    expect((await readLock(dataDir)).pid).toBe(next.ready.pid);
    expect(next.stderr()).toContain('took over a stale gateway lock');
    expect(next.stderr()).toContain(`process ${killed.ready.pid} is not running`);
    expect((await readRuntimeInfo(dataDir))?.pid).toBe(next.ready.pid);
    expect((await cli(['login'])).code).toBe(0);
  });

  it('treats a lock whose pid is alive but belongs to another process (pid reuse) as stale', async () => {
    await mkdir(dataDir, { recursive: true });
    const reused: InstanceLockRecord = {
      id: 'from-a-crashed-gateway',
      pid: process.pid, // alive: this test process
      processStart: 'the start time of the gateway that crashed',
      startedAt: '2026-01-01T00:00:00.000Z',
      app: 'cli',
      dataDir,
      mcpUrl: 'http://127.0.0.1:3590/mcp',
    };
    await writeFile(instanceLockPath(dataDir), JSON.stringify(reused));
    await using next = await serve();
    expect((await readLock(dataDir)).pid).toBe(next.ready.pid);
    expect(next.stderr()).toContain('now belongs to another process');
  });

  it('refuses when the lock names a live process with its own start time', async () => {
    await mkdir(dataDir, { recursive: true });
    const live: InstanceLockRecord = {
      id: 'held-by-the-test',
      pid: process.pid,
      ...((await processStartTime(process.pid)) ? { processStart: (await processStartTime(process.pid))! } : {}),
      startedAt: '2026-01-01T00:00:00.000Z',
      app: 'desktop',
      dataDir,
    };
    await writeFile(instanceLockPath(dataDir), JSON.stringify(live));
    const refused = await cli(['serve', '--port', '0']);
    expect(refused.code).toBe(75);
    expect(refused.stderr).toContain(`the desktop app, pid ${process.pid}, still starting`);
    expect((await readLock(dataDir)).id).toBe('held-by-the-test');
    expect(await exists(runtimeFilePath(dataDir))).toBe(false);
  });

  it('does not remove a runtime.json it did not write when it stops', async () => {
    const running = await serve();
    const someoneElses = { mcpUrl: 'http://127.0.0.1:1/mcp', consoleUrl: 'x', pid: process.pid, ownerToken: 'not-its' };
    await writeFile(runtimeFilePath(dataDir), JSON.stringify(someoneElses));
    expect(await running.stop()).toBe(0);
    expect(JSON.parse(await readFile(runtimeFilePath(dataDir), 'utf8'))).toEqual(someoneElses);
  });

  it('lets exactly one of two serves started at the same moment run', async () => {
    const a = serve().then(
      (served) => ({ served }),
      (error: unknown) => ({ error: String(error) }),
    );
    const b = serve().then(
      (served) => ({ served }),
      (error: unknown) => ({ error: String(error) }),
    );
    const results = await Promise.all([a, b]);
    const running = results.flatMap((r) => ('served' in r ? [r.served] : []));
    try {
      expect(running).toHaveLength(1);
      const refusal = results.find((r) => 'error' in r) as { error: string };
      expect(refusal.error).toContain('a gateway is already running');
      expect(refusal.error).toContain(`pid ${running[0]!.ready.pid}`);
      expect((await readLock(dataDir)).pid).toBe(running[0]!.ready.pid);
    } finally {
      for (const served of running) await served.stop();
    }
  });
});

describe('the gateway lock across processes', { timeout: 120_000 }, () => {
  it('lets exactly one of several processes racing for a stale lock take it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-race-'));
    try {
      const stale = {
        id: 'crashed',
        pid: await exitedPid(),
        startedAt: '2026-01-01T00:00:00.000Z',
        app: 'cli',
        dataDir,
      };
      await writeFile(instanceLockPath(dataDir), JSON.stringify(stale));
      await using race = await raceForLock('gateway', dataDir, join(dataDir, 'go'));
      const { results } = race;
      expect(results.filter((r) => r === 'won')).toHaveLength(1);
      expect(results.filter((r) => r === 'already_running')).toHaveLength(3);
      expect((await readLock(dataDir)).pid).toBe(race.winner);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('startGatewayInstance (shared by serve and the desktop app)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cortex-instance-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const config = (port = 0) => parseConfig({ mcpServers: {}, gateway: { port } });

  it('records where it listens, refuses a second start before building anything, and undoes itself on stop', async () => {
    await using first = await startGatewayInstance({
      dataDir,
      app: 'desktop',
      create: () => createGateway(config(), { dataDir }),
    });
    expect(await readLock(dataDir)).toMatchObject({ pid: process.pid, app: 'desktop', mcpUrl: first.address.mcpUrl });
    expect(await readRuntimeInfo(dataDir)).toEqual({
      mcpUrl: first.address.mcpUrl,
      consoleUrl: first.address.consoleUrl,
      pid: process.pid,
      ownerToken: first.gateway.ownerToken,
    });
    const runtimeBefore = await readFile(runtimeFilePath(dataDir), 'utf8');

    let built = false;
    const error = await startGatewayInstance({
      dataDir,
      app: 'cli',
      create: () => {
        built = true;
        return createGateway(config(), { dataDir });
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceLockedError);
    expect((error as InstanceLockedError).holder).toMatchObject({ app: 'desktop', mcpUrl: first.address.mcpUrl });
    expect(built).toBe(false);
    expect(await readFile(runtimeFilePath(dataDir), 'utf8')).toBe(runtimeBefore);
    expect((await fetch(new URL('/healthz', first.address.mcpUrl))).ok).toBe(true);

    await first.stop();
    await first.stop(); // idempotent
    expect(await exists(instanceLockPath(dataDir))).toBe(false);
    expect(await exists(runtimeFilePath(dataDir))).toBe(false);
    await expect(fetch(new URL('/healthz', first.address.mcpUrl))).rejects.toThrow();
  });

  it('releases the lock and writes no runtime.json when the gateway cannot listen', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const port = (blocker.address() as { port: number }).port;
      await expect(
        startGatewayInstance({ dataDir, app: 'cli', create: () => createGateway(config(port), { dataDir }) }),
      ).rejects.toMatchObject({ code: 'port_in_use' });
      expect(await exists(instanceLockPath(dataDir))).toBe(false);
      expect(await exists(runtimeFilePath(dataDir))).toBe(false);
    } finally {
      blocker.close();
    }
    await using next = await startGatewayInstance({
      dataDir,
      app: 'cli',
      create: () => createGateway(config(), { dataDir }),
    });
    expect((await readLock(dataDir)).mcpUrl).toBe(next.address.mcpUrl);
  });

  it('releases the lock when building the gateway fails', async () => {
    await expect(
      startGatewayInstance({
        dataDir,
        app: 'cli',
        create: () => {
          throw new Error('secrets file damaged');
        },
      }),
    ).rejects.toThrow('secrets file damaged');
    expect(await exists(instanceLockPath(dataDir))).toBe(false);
  });
});
