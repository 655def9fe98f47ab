import { describe, expect, it } from 'vitest';
import { handleOf, MAX_TASK_TTL_MS, NO_TTL_MS, TaskRegistry, withGatewayId, type TaskEntry } from './task-relay.js';

const base = {
  era: 'modern' as const,
  backend: 'jobs',
  backendId: 'jobs',
  access: 'write' as const,
  backendTaskId: 'task-1',
  client: 'c1',
  instance: '',
};

let n = 0;
/** An entry as a backend would hand it: a new backend task id each time, unless given. */
const task = (fields: Partial<typeof base> & { owner: string }) => ({
  ...base,
  backendTaskId: `task-${++n}`,
  ...fields,
});

function registry(options: { maxPerCaller?: number; max?: number } = {}) {
  const clock = { t: 1_000 };
  return { clock, tasks: new TaskRegistry({ now: () => clock.t, ...options }) };
}

describe('TaskRegistry', () => {
  it('files a handle under a fresh random id, found by its caller only', () => {
    const { tasks } = registry();
    const a = tasks.add(task({ owner: 'alice' }), 60_000);
    const b = tasks.add(task({ owner: 'alice' }), 60_000);
    expect(a.id).not.toBe(b.id);
    expect(tasks.find('alice', a.id)).toBe(a);
    expect(tasks.find('bob', a.id)).toBeUndefined();
    expect(tasks.find('alice', 'task-1')).toBeUndefined();
    expect(tasks.find('alice', 42)).toBeUndefined();
  });

  it('forgets an entry once the TTL the backend gave has passed', () => {
    const { clock, tasks } = registry();
    const entry = tasks.add(task({ owner: 'alice' }), 5_000);
    clock.t += 4_999;
    expect(tasks.find('alice', entry.id)).toBe(entry);
    clock.t += 1;
    expect(tasks.find('alice', entry.id)).toBeUndefined();
    expect(tasks.size).toBe(0);
  });

  it('keeps an entry without a TTL (or an unlimited one) for NO_TTL_MS, and none past MAX_TASK_TTL_MS', () => {
    const { tasks } = registry();
    expect(tasks.add(task({ owner: 'a' }), null).expiresAt).toBe(1_000 + NO_TTL_MS);
    expect(tasks.add(task({ owner: 'a' }), undefined).expiresAt).toBe(1_000 + NO_TTL_MS);
    expect(tasks.add(task({ owner: 'a' }), 10 * MAX_TASK_TTL_MS).expiresAt).toBe(1_000 + MAX_TASK_TTL_MS);
  });

  it('drops a caller’s oldest entry past its cap, leaving other callers’ alone', () => {
    const { tasks } = registry({ maxPerCaller: 2 });
    const bobs = tasks.add(task({ owner: 'bob' }), 60_000);
    const first = tasks.add(task({ owner: 'alice' }), 60_000);
    tasks.add(task({ owner: 'alice' }), 60_000);
    tasks.add(task({ owner: 'alice' }), 60_000);
    expect(tasks.find('alice', first.id)).toBeUndefined();
    expect(tasks.list('alice')).toHaveLength(2);
    expect(tasks.find('bob', bobs.id)).toBe(bobs);
  });

  it('drops the oldest entry of all past the gateway’s cap', () => {
    const { tasks } = registry({ max: 2 });
    const oldest = tasks.add(task({ owner: 'a' }), 60_000);
    tasks.add(task({ owner: 'b' }), 60_000);
    tasks.add(task({ owner: 'c' }), 60_000);
    expect(tasks.size).toBe(2);
    expect(tasks.find('a', oldest.id)).toBeUndefined();
  });

  it('drops an entry when its backend gives the same id again (the backend lost that task)', () => {
    const { tasks } = registry();
    const before = tasks.add({ ...base, owner: 'alice' }, 60_000);
    const after = tasks.add({ ...base, owner: 'bob' }, 60_000);
    expect(tasks.find('alice', before.id)).toBeUndefined();
    expect(tasks.find('bob', after.id)).toBe(after);
    // The same id from another backend, or another client's own instance, is another task.
    const elsewhere = tasks.add({ ...base, owner: 'carol', backend: 'other' }, 60_000);
    const ownInstance = tasks.add({ ...base, owner: 'dave', instance: 'dave' }, 60_000);
    expect(tasks.find('bob', after.id)).toBe(after);
    expect(tasks.find('carol', elsewhere.id)).toBe(elsewhere);
    expect(tasks.find('dave', ownInstance.id)).toBe(ownInstance);
  });

  it('lists a caller’s live entries only', () => {
    const { clock, tasks } = registry();
    tasks.add(task({ owner: 'alice' }), 10);
    const lasting = tasks.add(task({ owner: 'alice' }), 60_000);
    tasks.add(task({ owner: 'bob' }), 60_000);
    clock.t += 10;
    expect(tasks.list('alice')).toEqual([lasting]);
  });
});

describe('task handles and ids', () => {
  const entry = { id: 'gw-1', backendTaskId: 'task-1' } as TaskEntry;

  it('recognises a handle of each era', () => {
    expect(handleOf('modern', { resultType: 'task', taskId: 'task-1', ttlMs: 5 })).toEqual({
      taskId: 'task-1',
      ttlMs: 5,
    });
    expect(handleOf('modern', { content: [] })).toBeUndefined();
    expect(handleOf('legacy', { task: { taskId: 'task-1', ttl: 7 } })).toEqual({ taskId: 'task-1', ttlMs: 7 });
    expect(handleOf('legacy', { content: [] })).toBeUndefined();
  });

  it('replaces the backend’s id wherever a task names itself', () => {
    expect(withGatewayId({ taskId: 'task-1', status: 'working' }, entry)).toEqual({
      taskId: 'gw-1',
      status: 'working',
    });
    expect(withGatewayId({ task: { taskId: 'task-1' } }, entry)).toEqual({ task: { taskId: 'gw-1' } });
    expect(
      withGatewayId({ content: [], _meta: { 'io.modelcontextprotocol/related-task': { taskId: 'task-1' } } }, entry),
    ).toEqual({ content: [], _meta: { 'io.modelcontextprotocol/related-task': { taskId: 'gw-1' } } });
  });
});
