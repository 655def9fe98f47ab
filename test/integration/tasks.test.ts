import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { z } from 'zod';
import { acceptTaskHandles, TASKS_EXTENSION } from '../../src/backends/protocol-era.js';
import {
  connectClient,
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  text,
  waitFor,
  type ConnectedClient,
  type ListeningProcess,
  type RunningGateway,
} from '../helpers/gateway.js';
import { approve, MemoryOAuthProvider, ownerSession } from '../helpers/oauth.js';

const TASKS = join(ROOT, 'test/fixtures/tasks-server.mjs');
const anyResult = z.looseObject({});
type Json = Record<string, unknown>;

/**
 * Tasks pass through the gateway (issue 11): a backend that runs tool calls as tasks, in each era
 * (test/fixtures/tasks-server.mjs), reached by real SDK clients of the same era. Each handle comes
 * back under a gateway id only its caller can use; a caller that cannot take a task gets the
 * result inline; tasks are not offered across eras.
 */
describe('tasks through the gateway', () => {
  let running: RunningGateway;
  let otherToken: string;
  let web: ListeningProcess;

  beforeAll(async () => {
    web = await spawnListening([TASKS], { TASKS_HTTP: '1' });
    running = await startGateway({
      web: { type: 'http', url: web.url.href },
      jobs: nodeBackend(TASKS),
      // Same task ids as `jobs` (task-1, task-2…): the gateway's ids must not collide.
      jobs2: nodeBackend(TASKS),
      old: nodeBackend(TASKS, [], { TASKS_ERA: '2025' }),
    });
    await waitFor(() => running.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);
    ({ token: otherToken } = await running.gateway.createPersonalToken({
      name: 'someone else',
      scopes: ['*'],
      ttlSeconds: 3600,
    }));
  }, 60_000);

  afterAll(async () => {
    await running?.[Symbol.asyncDispose]();
    await web?.[Symbol.asyncDispose]();
  });

  /** A 2026-07-28 SDK client; `tasks` declares the extension in its requests' capabilities. */
  async function modernClient(options: { tasks: boolean; token?: string }): Promise<ModernClient & AsyncDisposable> {
    const client = new ModernClient(
      { name: 'tasks-test', version: '1.0.0' },
      {
        versionNegotiation: { mode: { pin: '2026-07-28' } },
        ...(options.tasks && { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } }),
      },
    );
    // SDK 2.4 refuses `resultType: "task"` before the caller sees it; the same shim the gateway's
    // backend clients use (protocol-era.ts) lets this client take a handle.
    acceptTaskHandles(client);
    const token = options.token ?? running.token;
    await client.connect(
      new ModernTransport(running.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
  }

  const call = (client: ModernClient, name: string, args: Json) =>
    client.request({ method: 'tools/call', params: { name, arguments: args } }, anyResult) as Promise<Json>;
  const taskRequest = (client: ModernClient, method: string, params: Json) =>
    client.request({ method, params }, anyResult) as Promise<Json>;

  async function settle(client: ModernClient, taskId: string): Promise<Json> {
    return waitFor(async () => {
      const task = await taskRequest(client, 'tasks/get', { taskId });
      return task.status === 'working' ? undefined : task;
    }, `task ${taskId} to settle`);
  }

  describe('2026-07-28 (the Tasks extension)', () => {
    it('offers the extension in server/discover, since a backend offers it', async () => {
      await using client = await modernClient({ tasks: true });
      const extensions = client.getServerCapabilities()?.extensions as Json | undefined;
      expect(extensions?.[TASKS_EXTENSION]).toEqual({});
    });

    it('creates a task, polls it and gets its result, under an id of the gateway', async () => {
      await using client = await modernClient({ tasks: true });
      const handle = await call(client, 'jobs__job', { text: 'first', ms: 50 });
      expect(handle).toMatchObject({ status: 'working' });
      expect(handle.taskId).toMatch(/^[0-9a-f-]{36}$/);
      const done = await settle(client, handle.taskId as string);
      expect(done).toMatchObject({ taskId: handle.taskId, status: 'completed' });
      expect(text(done.result)).toBe('done: first');
    });

    it('relays the task of a backend reached over Streamable HTTP', async () => {
      await using client = await modernClient({ tasks: true });
      const handle = await call(client, 'web__job', { text: 'over http', ms: 10 });
      expect(text((await settle(client, handle.taskId as string)).result)).toBe('done: over http');
      const forever = await call(client, 'web__job', { text: 'forever', ms: 0 });
      await taskRequest(client, 'tasks/cancel', { taskId: forever.taskId });
      expect(await taskRequest(client, 'tasks/get', { taskId: forever.taskId })).toMatchObject({ status: 'cancelled' });
    });

    it('keeps apart two backends that number their tasks alike', async () => {
      await using client = await modernClient({ tasks: true });
      const a = await call(client, 'jobs__job', { text: 'from a', ms: 10 });
      const b = await call(client, 'jobs2__job', { text: 'from b', ms: 10 });
      expect(a.taskId).not.toBe(b.taskId);
      expect(text((await settle(client, a.taskId as string)).result)).toBe('done: from a');
      expect(text((await settle(client, b.taskId as string)).result)).toBe('done: from b');
    });

    it('does not let another client read, update or cancel the task', async () => {
      await using owner = await modernClient({ tasks: true });
      await using other = await modernClient({ tasks: true, token: otherToken });
      const handle = await call(owner, 'jobs__job', { text: 'mine', ms: 0 });
      for (const method of ['tasks/get', 'tasks/cancel']) {
        await expect(taskRequest(other, method, { taskId: handle.taskId })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('Unknown task'),
        });
      }
      await expect(
        taskRequest(other, 'tasks/update', { taskId: handle.taskId, inputResponses: {} }),
      ).rejects.toMatchObject({ code: -32602 });
      // Still the owner's, and still running.
      expect(await taskRequest(owner, 'tasks/get', { taskId: handle.taskId })).toMatchObject({ status: 'working' });
      await taskRequest(owner, 'tasks/cancel', { taskId: handle.taskId });
    });

    it('answers an unknown task id with a clear error', async () => {
      await using client = await modernClient({ tasks: true });
      await expect(taskRequest(client, 'tasks/get', { taskId: 'task-1' })).rejects.toMatchObject({
        code: -32602,
        message: 'Unknown task: task-1',
      });
    });

    it('cancels a task at its backend', async () => {
      await using client = await modernClient({ tasks: true });
      const handle = await call(client, 'jobs__job', { text: 'forever', ms: 0 });
      const { _meta, ...acknowledged } = await taskRequest(client, 'tasks/cancel', { taskId: handle.taskId });
      expect(acknowledged).toEqual({});
      expect(await taskRequest(client, 'tasks/get', { taskId: handle.taskId })).toMatchObject({
        taskId: handle.taskId,
        status: 'cancelled',
      });
    });

    it('relays input a task asks for, and the answer given with tasks/update', async () => {
      await using client = await modernClient({ tasks: true });
      const handle = await call(client, 'jobs__job', { text: 'hello', ask: true });
      const asking = await taskRequest(client, 'tasks/get', { taskId: handle.taskId });
      expect(asking.status).toBe('input_required');
      const [key] = Object.keys(asking.inputRequests as Json);
      await taskRequest(client, 'tasks/update', {
        taskId: handle.taskId,
        inputResponses: { [key!]: { action: 'accept', content: { name: 'Ada' } } },
      });
      expect(text((await settle(client, handle.taskId as string)).result)).toBe('done: hello {"name":"Ada"}');
    });

    it('never hands a caller a task its backend lost and gave the same id to someone else', async () => {
      await using owner = await modernClient({ tasks: true });
      await using other = await modernClient({ tasks: true, token: otherToken });
      const restart = async () => {
        await running.gateway.restartBackend('jobs2');
        await waitFor(
          () => running.gateway.backendStatuses().find((s) => s.name === 'jobs2')?.state === 'ready',
          'jobs2 ready again',
        );
      };
      // The fixture numbers its tasks from task-1 again after a restart.
      await restart();
      const lost = await call(owner, 'jobs2__job', { text: 'mine', ms: 0 });
      await restart();
      const reused = await call(other, 'jobs2__job', { text: 'theirs', ms: 0 });
      await expect(taskRequest(owner, 'tasks/get', { taskId: lost.taskId })).rejects.toMatchObject({
        code: -32602,
        message: `Unknown task: ${lost.taskId}`,
      });
      // And a task the restarted backend no longer knows is unknown under the caller's own id.
      await restart();
      await expect(taskRequest(other, 'tasks/get', { taskId: reused.taskId })).rejects.toMatchObject({
        code: -32602,
        message: `Unknown task: ${reused.taskId}`,
      });
    });

    it('gives a client that did not declare the extension its result inline', async () => {
      await using client = await modernClient({ tasks: false });
      const result = await client.callTool({ name: 'jobs__job', arguments: { text: 'plain', ms: 10 } });
      expect(text(result)).toBe('inline: plain');
    });

    it('runs a call to a 2025 task backend inline for a 2026-07-28 client (no tasks across eras)', async () => {
      await using client = await modernClient({ tasks: true });
      expect(text(await call(client, 'old__job', { text: 'across', ms: 10 }))).toBe('inline: across');
    });
  });

  describe('2025-11-25 (core tasks)', () => {
    let client: ConnectedClient;
    let other: ConnectedClient;

    beforeAll(async () => {
      client = await connectClient(running.mcpUrl);
      other = await connectClient(running.mcpUrl, otherToken, 'someone-else');
    });
    afterAll(async () => {
      await client?.[Symbol.asyncDispose]();
      await other?.[Symbol.asyncDispose]();
    });

    const create = (name: string, args: Json) =>
      client.client.request(
        { method: 'tools/call', params: { name, arguments: args, task: { ttl: 60_000 } } },
        CreateTaskResultSchema,
      );

    it('offers the tasks capability, since a 2025 backend runs tasks', () => {
      expect(client.client.getServerCapabilities()?.tasks).toMatchObject({ requests: { tools: { call: {} } } });
    });

    it('creates a task, polls it, gets its result and lists it, under an id of the gateway', async () => {
      const { task } = await create('old__job', { text: 'legacy', ms: 50 });
      expect(task.taskId).toMatch(/^[0-9a-f-]{36}$/);
      const done = await waitFor(async () => {
        const got = await client.client.request(
          { method: 'tasks/get', params: { taskId: task.taskId } },
          GetTaskResultSchema,
        );
        return got.status === 'completed' ? got : undefined;
      }, 'the task to complete');
      expect(done.taskId).toBe(task.taskId);
      const result = await client.client.request(
        { method: 'tasks/result', params: { taskId: task.taskId } },
        CallToolResultSchema,
      );
      expect(text(result)).toBe('done: legacy');
      expect(result._meta?.['io.modelcontextprotocol/related-task']).toEqual({ taskId: task.taskId });
      const { tasks } = await client.client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
      expect(tasks.map((t) => t.taskId)).toContain(task.taskId);
    });

    it('lists, reads and cancels only the caller’s own tasks', async () => {
      const { task } = await create('old__job', { text: 'private', ms: 0 });
      const { tasks } = await other.client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
      expect(tasks.map((t) => t.taskId)).not.toContain(task.taskId);
      for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
        await expect(
          other.client.request({ method, params: { taskId: task.taskId } } as never, anyResult),
        ).rejects.toMatchObject({ code: -32602 });
      }
      const cancelled = await client.client.request(
        { method: 'tasks/cancel', params: { taskId: task.taskId } },
        GetTaskResultSchema,
      );
      expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
    });

    it('does not serve the 2026-07-28 extension’s tasks/update to a session', async () => {
      const { task } = await create('old__job', { text: 'x', ms: 5 });
      await expect(
        client.client.request({ method: 'tasks/update', params: { taskId: task.taskId } } as never, anyResult),
      ).rejects.toMatchObject({ code: -32601, message: expect.stringContaining('tasks/update') });
    });

    it('runs a call without `task` inline', async () => {
      expect(text(await client.client.callTool({ name: 'old__job', arguments: { text: 'plain', ms: 5 } }))).toBe(
        'inline: plain',
      );
    });

    it('runs a task-augmented call to a 2026-07-28 task backend inline (no tasks across eras)', async () => {
      const result = await client.client.request(
        { method: 'tools/call', params: { name: 'jobs__job', arguments: { text: 'across', ms: 5 }, task: {} } },
        CallToolResultSchema,
      );
      expect(text(result)).toBe('inline: across');
    });
  });

  describe('a task and the grant of the tool that created it', () => {
    /** Signs an app in as the SDK does (register, consent with these scopes) and connects it. */
    async function signIn(provider: MemoryOAuthProvider, scopes: string[]): Promise<Client> {
      const first = new StreamableHTTPClientTransport(running.mcpUrl, { authProvider: provider });
      await expect(new Client({ name: 'app', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      const callback = await approve(provider.authorizationUrl!, await ownerSession(running.gateway), scopes);
      await first.finishAuth(callback.searchParams.get('code')!);
      const client = new Client({ name: 'app', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(running.mcpUrl, { authProvider: provider }));
      return client;
    }
    const setScopes = async (clientId: string, scopes: string[]) => {
      const res = await fetch(new URL(`/api/clients/${clientId}/scopes`, running.mcpUrl), {
        method: 'PUT',
        headers: { authorization: `Bearer ${running.gateway.ownerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes }),
      });
      expect(res.status).toBe(200);
    };

    it('hides the task once the owner turns that backend off for the app, and shows it again when back on', async () => {
      const provider = new MemoryOAuthProvider();
      const client = await signIn(provider, ['mcp:old:write']);
      try {
        const { task } = await client.request(
          { method: 'tools/call', params: { name: 'old__job', arguments: { text: 'x', ms: 0 }, task: {} } },
          CreateTaskResultSchema,
        );
        await setScopes(provider.client!.client_id, ['mcp:jobs:read']);
        await expect(
          client.request({ method: 'tasks/get', params: { taskId: task.taskId } }, GetTaskResultSchema),
        ).rejects.toMatchObject({ code: -32602 });
        const { tasks } = await client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
        expect(tasks).toEqual([]);
        await setScopes(provider.client!.client_id, ['mcp:old:write']);
        expect(
          await client.request({ method: 'tasks/cancel', params: { taskId: task.taskId } }, GetTaskResultSchema),
        ).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
      } finally {
        await client.close();
      }
    });
  });
});
