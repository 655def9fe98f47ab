import { describe, expect, it } from 'vitest';
import { createdTask, LiveTasks, MAX_LIVE_TASK_MS, NO_TTL_LIVE_MS, taskWord } from './live-tasks.js';

function live() {
  const clock = { t: 1_000 };
  let changes = 0;
  const tasks = new LiveTasks(() => clock.t);
  tasks.onchange = () => changes++;
  return { clock, tasks, changes: () => changes };
}

describe('LiveTasks', () => {
  it('counts a created task live until the TTL its backend gave', () => {
    const { clock, tasks } = live();
    tasks.saw({ taskId: 't1', status: 'working', ttl: 5_000 }, true);
    expect(tasks.ids()).toEqual(['t1']);
    expect(tasks.liveUntil()).toBe(6_000);
    clock.t = 6_000;
    expect(tasks.ids()).toEqual([]);
    expect(tasks.liveUntil()).toBeUndefined();
  });

  it('bounds the TTL, and gives one to a task without (or with an unlimited) one', () => {
    const { tasks } = live();
    tasks.saw({ taskId: 'long', status: 'working', ttl: 10 * MAX_LIVE_TASK_MS }, true);
    expect(tasks.liveUntil()).toBe(1_000 + MAX_LIVE_TASK_MS);
    const other = live();
    other.tasks.saw({ taskId: 'open', status: 'working', ttl: null }, true);
    expect(other.tasks.liveUntil()).toBe(1_000 + NO_TTL_LIVE_MS);
  });

  it('drops a task seen in a terminal status, and ignores news of tasks it never saw created', () => {
    const { tasks, changes } = live();
    tasks.saw({ taskId: 't1', status: 'working', ttl: 5_000 }, true);
    tasks.saw({ taskId: 'stranger', status: 'working', ttl: 5_000 });
    expect(tasks.ids()).toEqual(['t1']);
    tasks.saw({ taskId: 't1', status: 'input_required', ttl: undefined });
    expect(tasks.ids()).toEqual(['t1']);
    tasks.saw({ taskId: 't1', status: 'cancelled', ttl: undefined });
    expect(tasks.ids()).toEqual([]);
    expect(changes()).toBe(2);
  });

  it('renews a task whose TTL the backend changed', () => {
    const { clock, tasks } = live();
    tasks.saw({ taskId: 't1', status: 'working', ttl: 5_000 }, true);
    clock.t = 4_000;
    tasks.saw({ taskId: 't1', status: 'working', ttl: 5_000 });
    expect(tasks.liveUntil()).toBe(9_000);
  });
});

describe('task shapes of each era', () => {
  it('reads a 2026-07-28 handle and a 2025-11-25 CreateTaskResult', () => {
    expect(createdTask(true, { resultType: 'task', taskId: 'a', status: 'working', ttlMs: 10 })).toEqual({
      taskId: 'a',
      status: 'working',
      ttl: 10,
    });
    expect(createdTask(true, { content: [] })).toBeUndefined();
    expect(createdTask(false, { task: { taskId: 'b', status: 'working', ttl: 20 } })).toEqual({
      taskId: 'b',
      status: 'working',
      ttl: 20,
    });
    expect(taskWord(false, { taskId: 'b', status: 'completed', ttl: 20, ttlMs: 1 })?.ttl).toBe(20);
  });
});
