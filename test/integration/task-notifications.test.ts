import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { CreateTaskResultSchema, TaskStatusNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
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
import { openSse, type OpenStream } from '../helpers/raw-mcp.js';
import { approve, MemoryOAuthProvider, ownerSession } from '../helpers/oauth.js';

const TASKS = join(ROOT, 'test/fixtures/tasks-server.mjs');
const anyResult = z.looseObject({});
const TaskParams = z.looseObject({ taskId: z.string(), status: z.string() });
type Json = Record<string, unknown>;

/** Lets other traffic happen first: what was going to arrive has arrived. */
const settleFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Task status notifications through the gateway: a backend's (test/fixtures/tasks-server.mjs)
 * reach the task's owner only, under the gateway's task id, in each era; another client of the
 * same scopes hears nothing of them.
 */
describe('task status notifications', () => {
  let running: RunningGateway;
  let otherToken: string;
  let web: ListeningProcess;

  beforeAll(async () => {
    web = await spawnListening([TASKS], { TASKS_HTTP: '1' });
    running = await startGateway({
      web: { type: 'http', url: web.url.href },
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

  describe('2025-11-25: notifications/tasks/status on the owner’s session', () => {
    let owner: ConnectedClient;
    let other: ConnectedClient;
    const heard = { owner: [] as Json[], other: [] as Json[] };

    beforeAll(async () => {
      owner = await connectClient(running.mcpUrl);
      other = await connectClient(running.mcpUrl, otherToken, 'someone-else');
      owner.client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void heard.owner.push(n.params));
      other.client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void heard.other.push(n.params));
    });
    afterAll(async () => {
      await owner?.[Symbol.asyncDispose]();
      await other?.[Symbol.asyncDispose]();
    });

    const create = (args: Json) =>
      owner.client.request(
        { method: 'tools/call', params: { name: 'old__job', arguments: args, task: { ttl: 60_000 } } },
        CreateTaskResultSchema,
      );

    it('tells the owner its task completed, under the gateway’s id, without polling', async () => {
      const { task } = await create({ text: 'pushed', ms: 100 });
      const done = await waitFor(
        () => heard.owner.find((n) => n.taskId === task.taskId && n.status === 'completed'),
        'the completed status',
      );
      expect(done).toMatchObject({ taskId: task.taskId, status: 'completed', ttl: 60_000 });
      expect(JSON.stringify(heard.owner)).not.toContain('"task-');
    });

    it('tells the owner of a cancellation, and nobody else of anything', async () => {
      const { task } = await create({ text: 'stays', ms: 0 });
      await owner.client.request({ method: 'tasks/cancel', params: { taskId: task.taskId } }, anyResult);
      await waitFor(
        () => heard.owner.find((n) => n.taskId === task.taskId && n.status === 'cancelled'),
        'the cancelled status',
      );
      await settleFor(200);
      expect(heard.other).toEqual([]);
    });

    it('says nothing of a task once the owner turned its backend off for the app', async () => {
      const provider = new MemoryOAuthProvider();
      const first = new StreamableHTTPClientTransport(running.mcpUrl, { authProvider: provider });
      await expect(new Client({ name: 'app', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      const callback = await approve(provider.authorizationUrl!, await ownerSession(running.gateway), [
        'mcp:old:write',
      ]);
      await first.finishAuth(callback.searchParams.get('code')!);
      const app = new Client({ name: 'app', version: '1' });
      const told: Json[] = [];
      app.setNotificationHandler(TaskStatusNotificationSchema, (n) => void told.push(n.params));
      await app.connect(new StreamableHTTPClientTransport(running.mcpUrl, { authProvider: provider }));
      const setScopes = async (scopes: string[]) => {
        const res = await fetch(new URL(`/api/clients/${provider.client!.client_id}/scopes`, running.mcpUrl), {
          method: 'PUT',
          headers: { authorization: `Bearer ${running.gateway.ownerToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ scopes }),
        });
        expect(res.status).toBe(200);
      };
      const create = (ms: number) =>
        app.request(
          { method: 'tools/call', params: { name: 'old__job', arguments: { text: 'x', ms }, task: {} } },
          CreateTaskResultSchema,
        );
      try {
        const hidden = await create(300);
        await setScopes(['mcp:web:read']);
        await settleFor(600);
        expect(told.filter((n) => n.taskId === hidden.task.taskId)).toEqual([]);
        // Turned on again, the app hears of its tasks as before.
        await setScopes(['mcp:old:write']);
        const shown = await create(50);
        await waitFor(() => told.find((n) => n.taskId === shown.task.taskId && n.status === 'completed'), 'the status');
      } finally {
        await app.close();
      }
    });
  });

  describe('2026-07-28: notifications/tasks on the owner’s subscriptions/listen stream', () => {
    /** A 2026-07-28 SDK client that hears `notifications/tasks`; `tasks` declares the extension. */
    async function modernClient(options: { tasks: boolean; token?: string }) {
      const client = new ModernClient(
        { name: 'task-notifications-test', version: '1.0.0' },
        {
          versionNegotiation: { mode: { pin: '2026-07-28' } },
          ...(options.tasks && { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } }),
        },
      );
      acceptTaskHandles(client);
      const heard: Json[] = [];
      client.setNotificationHandler('notifications/tasks', { params: TaskParams }, (params) => void heard.push(params));
      const token = options.token ?? running.token;
      await client.connect(
        new ModernTransport(running.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      return Object.assign(client, { heard, [Symbol.asyncDispose]: () => client.close() });
    }
    const call = (client: ModernClient, args: Json) =>
      client.request(
        { method: 'tools/call', params: { name: 'web__job', arguments: args } },
        anyResult,
      ) as Promise<Json>;
    const listen = (client: ModernClient, taskIds: string[]) => client.listen({ taskIds } as never);
    /**
     * A listen stream opened over the wire, to see its acknowledgement as sent (the SDK 2.x client
     * parses it with the core filter's schema, which has no `taskIds`).
     */
    const rawListen = (token: string, taskIds: string[]) =>
      openSse(running.mcpUrl, {
        token,
        headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
        body: {
          jsonrpc: '2.0',
          id: 'listen-1',
          method: 'subscriptions/listen',
          params: {
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS_EXTENSION]: {} } },
              'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            },
            notifications: { taskIds },
          },
        },
      });
    const messages = (stream: OpenStream) => stream.events().map((event) => JSON.parse(event.data) as Json);

    it('acknowledges the owner’s task and sends its status under the gateway’s id', async () => {
      await using client = await modernClient({ tasks: true });
      const handle = await call(client, { text: 'listened', ms: 300 });
      await using stream = await rawListen(running.token, [handle.taskId as string]);
      expect(stream.status).toBe(200);
      const [ack] = await waitFor(() => (stream.events().length > 0 ? messages(stream) : undefined), 'the ack');
      expect(ack).toMatchObject({
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { taskIds: [handle.taskId] } },
      });
      expect((ack!.params as { notifications: Json }).notifications).toEqual({ taskIds: [handle.taskId] });
      const done = await waitFor(
        () => messages(stream).find((m) => m.method === 'notifications/tasks'),
        'the task’s status on the listen stream',
      );
      const params = done.params as Json;
      expect(params).toMatchObject({ taskId: handle.taskId, status: 'completed' });
      expect(text(params.result)).toBe('done: listened');
      expect(params._meta).toEqual({ 'io.modelcontextprotocol/subscriptionId': 'listen-1' });
    });

    it('does not acknowledge or send another client’s task, though it has the same scopes', async () => {
      await using owner = await modernClient({ tasks: true });
      const handle = await call(owner, { text: 'mine', ms: 0 });
      const mine = await listen(owner, [handle.taskId as string]);
      await using theirs = await rawListen(otherToken, [handle.taskId as string]);
      try {
        // Nothing of its own to deliver: acknowledged empty, and closed.
        await theirs.ended;
        const [ack] = messages(theirs);
        expect((ack!.params as { notifications: Json }).notifications).toEqual({});
        await owner.request({ method: 'tasks/cancel', params: { taskId: handle.taskId } }, anyResult);
        const cancelled = await waitFor(
          () => owner.heard.find((n) => n.status === 'cancelled'),
          'the cancelled status',
        );
        expect(cancelled.taskId).toBe(handle.taskId);
        await settleFor(200);
        expect(messages(theirs).filter((m) => m.method === 'notifications/tasks')).toEqual([]);
      } finally {
        await mine.close();
      }
    });

    it('refuses a listen naming tasks from a client that did not declare the extension (-32021)', async () => {
      await using client = await modernClient({ tasks: false });
      await expect(listen(client, ['any'])).rejects.toMatchObject({ code: -32021 });
    });
  });
});
