import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Backend } from '../../src/backends/backend.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { nodeBackend, ROOT, waitFor } from '../helpers/gateway.js';

const TASKS = join(ROOT, 'test/fixtures/tasks-server.mjs');
/** Short enough to watch an instance stop, long enough for a call to land between two looks. */
const IDLE_MS = 300;

/**
 * A client's own instance of a `per-client` backend stops when idle, but not while it runs a task
 * of that client: the task lives in that process (test/fixtures/tasks-server.mjs, over stdio) and
 * would be lost with it. A real Backend, with the idle time shortened.
 */
describe('a per-client instance and the tasks it runs', () => {
  async function backend(era: '2025' | '2026'): Promise<Backend & AsyncDisposable> {
    const config = parseConfig({
      mcpServers: { jobs: nodeBackend(TASKS, [], { TASKS_ERA: era }, { instances: 'per-client' }) },
      gateway: { port: 0 },
    });
    const made = new Backend({
      config: config.backends[0]!,
      settings: config.gateway,
      logger: silentLogger,
      clock: systemClock,
      clientInfo: { name: 'test', version: '1' },
      instanceIdleMs: IDLE_MS,
    });
    made.start();
    await waitFor(() => made.state === 'ready', 'the backend ready', 30_000);
    return made as Backend & AsyncDisposable;
  }
  const instances = (b: Backend) => b.status().clientInstances;
  const settleFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('stops an idle instance that holds no task', async () => {
    await using jobs = await backend('2025');
    await jobs.request('tools/call', { name: 'job', arguments: { text: 'inline', ms: 1 } }, { client: 'c1' });
    expect(instances(jobs)).toBe(1);
    await waitFor(() => instances(jobs) === 0, 'the idle instance stopped');
  });

  it('keeps the instance while its 2025 task is live, and stops it once the task ended', async () => {
    await using jobs = await backend('2025');
    const created = await jobs.request(
      'tools/call',
      { name: 'job', arguments: { text: 'long', ms: 0 }, task: { ttl: 60_000 } },
      { client: 'c1' },
    );
    const taskId = (created.task as { taskId: string }).taskId;
    await settleFor(IDLE_MS * 4);
    expect(instances(jobs)).toBe(1);
    // Still there to be asked: the task is the instance's.
    expect(await jobs.request('tasks/get', { taskId }, { client: 'c1' })).toMatchObject({ status: 'working' });
    await jobs.request('tasks/cancel', { taskId }, { client: 'c1' });
    await waitFor(() => instances(jobs) === 0, 'the instance stopped once its task was cancelled');
  });

  it('keeps the instance while its 2026-07-28 task is live', async () => {
    await using jobs = await backend('2026');
    const created = await jobs.request(
      'tools/call',
      { name: 'job', arguments: { text: 'long', ms: 0 } },
      { client: 'c1', tasks: true },
    );
    expect(created.resultType).toBe('task');
    await settleFor(IDLE_MS * 4);
    expect(instances(jobs)).toBe(1);
    await jobs.request('tasks/cancel', { taskId: created.taskId }, { client: 'c1' });
    // 2026-07-28 acknowledges a cancel with `{}`: the task is seen ended at the next tasks/get.
    expect(await jobs.request('tasks/get', { taskId: created.taskId }, { client: 'c1' })).toMatchObject({
      status: 'cancelled',
    });
    await waitFor(() => instances(jobs) === 0, 'the instance stopped once its task was cancelled');
  });
});
