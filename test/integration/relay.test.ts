import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
  type ElicitRequest,
} from '@modelcontextprotocol/sdk/types.js';
import {
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  text,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const ASKING = join(ROOT, 'test/fixtures/asking-server.mjs');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const EVERYTHING_ASKED: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: false },
};

interface AnsweringClient extends AsyncDisposable {
  client: Client;
  /** The elicitation requests this client was asked, in order. */
  elicited: ElicitRequest['params'][];
  /** The elicitationIds of the notifications/elicitation/complete this client was sent. */
  completed: string[];
}

/**
 * A 2025-11-25 SDK client that declares `capabilities` and answers what it is asked: sampling
 * with a message naming itself, form elicitation with its name, URL elicitation with accept,
 * roots with one root named after it. `beforeElicit` runs before it answers an elicitation, with
 * the signal that aborts when the gateway withdraws the question.
 */
async function answeringClient(
  gw: RunningGateway,
  name: string,
  capabilities: ClientCapabilities = EVERYTHING_ASKED,
  beforeElicit: (signal: AbortSignal) => Promise<void> = async () => {},
  token = gw.token,
): Promise<AnsweringClient> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  const elicited: ElicitRequest['params'][] = [];
  const completed: string[] = [];
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
    completed.push(notification.params.elicitationId);
  });
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const asked = request.params.messages[0]?.content;
      const prompt = asked && 'text' in asked ? asked.text : '';
      return {
        role: 'assistant',
        content: { type: 'text', text: `${name} sampled: ${String(prompt)}` },
        model: 'test-model',
      };
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      elicited.push(request.params);
      await beforeElicit(extra.signal);
      return request.params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { name } };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: [{ uri: `file:///home/${name}`, name }],
    }));
  }
  const transport = new StreamableHTTPClientTransport(gw.mcpUrl, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return {
    client,
    elicited,
    completed,
    async [Symbol.asyncDispose]() {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function callText(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args });
  return { text: text(result), isError: result.isError === true };
}

/** The asking server as a stdio backend and as a Streamable HTTP one, so both transports are covered. */
const transports = [
  {
    kind: 'stdio',
    backend: async () => ({ config: nodeBackend(ASKING), async [Symbol.asyncDispose]() {} }),
  },
  {
    kind: 'Streamable HTTP',
    backend: async () => {
      const server = await spawnListening([ASKING], { ASKING_HTTP: '1' });
      return {
        config: { type: 'http', url: server.url.href },
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
      };
    },
  },
] as const;

describe.each(transports)('what a $kind backend asks reaches the calling 2025-11-25 client', ({ backend }) => {
  async function setup() {
    const server = await backend();
    const gw = await startGateway({ asking: server.config });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    return {
      gw,
      async [Symbol.asyncDispose]() {
        await gw[Symbol.asyncDispose]();
        await server[Symbol.asyncDispose]();
      },
    };
  }

  it('relays sampling and returns the client’s message to the backend', async () => {
    await using env = await setup();
    await using alice = await answeringClient(env.gw, 'alice');
    const result = await callText(alice.client, 'asking__sample', { prompt: 'hello' });
    expect(result.isError).toBe(false);
    expect(JSON.parse(result.text)).toMatchObject({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: 'alice sampled: hello' },
    });
  });

  it('relays form elicitation', async () => {
    await using env = await setup();
    await using alice = await answeringClient(env.gw, 'alice');
    const result = await callText(alice.client, 'asking__elicit_form', { message: 'Who are you?' });
    expect(JSON.parse(result.text)).toEqual({ action: 'accept', content: { name: 'alice' } });
    expect(alice.elicited[0]).toMatchObject({ mode: 'form', message: 'Who are you?' });
  });

  it('relays URL elicitation to a client that declared elicitation.url', async () => {
    await using env = await setup();
    await using alice = await answeringClient(env.gw, 'alice');
    const result = await callText(alice.client, 'asking__elicit_url', { url: 'https://example.com/sign-in' });
    expect(JSON.parse(result.text)).toEqual({ action: 'accept' });
    expect(alice.elicited[0]).toMatchObject({ mode: 'url', url: 'https://example.com/sign-in' });
  });

  it('relays roots/list with the calling client’s roots', async () => {
    await using env = await setup();
    await using alice = await answeringClient(env.gw, 'alice');
    const result = await callText(alice.client, 'asking__roots');
    expect(JSON.parse(result.text)).toEqual({ roots: [{ uri: 'file:///home/alice', name: 'alice' }] });
  });

  it('refuses, with the reason, what the client did not declare', async () => {
    await using env = await setup();
    await using plain = await answeringClient(env.gw, 'plain', {});
    const sampled = await callText(plain.client, 'asking__sample', { prompt: 'hello' });
    expect(sampled.isError).toBe(true);
    expect(sampled.text).toContain('-32601');
    expect(sampled.text).toContain('the client did not declare the sampling capability');
    const rooted = await callText(plain.client, 'asking__roots');
    expect(rooted.text).toContain('the client did not declare the roots capability');
  });

  it('withdraws the question from the client when its call is cancelled', async () => {
    await using env = await setup();
    let withdrawn = false;
    await using alice = await answeringClient(
      env.gw,
      'alice',
      EVERYTHING_ASKED,
      (signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            withdrawn = true;
            resolve();
          }),
        ),
    );
    const controller = new AbortController();
    const call = alice.client.callTool(
      { name: 'asking__elicit_form', arguments: { message: 'never mind' } },
      undefined,
      {
        signal: controller.signal,
      },
    );
    await waitFor(() => alice.elicited.length === 1, 'alice asked');
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await waitFor(() => withdrawn, 'the question withdrawn');
  });

  it('keeps the call alive past the backend timeout while the user answers', async () => {
    const server = await backend();
    await using gw = await startGateway({ asking: { ...server.config, timeoutMs: 500 } });
    await using _server = server;
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    await using alice = await answeringClient(gw, 'alice', EVERYTHING_ASKED, () => sleep(1_200));
    const result = await callText(alice.client, 'asking__elicit_form', { message: 'take your time' });
    expect(JSON.parse(result.text)).toEqual({ action: 'accept', content: { name: 'alice' } });
  });

  it('tells the client that was asked a URL elicitation of its completion, and no other client', async () => {
    await using env = await setup();
    await using alice = await answeringClient(env.gw, 'alice');
    await using bob = await answeringClient(env.gw, 'bob');
    const result = await callText(alice.client, 'asking__elicit_url_then_complete', { url: 'https://example.com/in' });
    const elicitationId = result.text;
    expect(result.isError).toBe(false);
    expect(alice.elicited.map((p) => p.mode === 'url' && p.elicitationId)).toEqual([elicitationId]);
    await waitFor(() => alice.completed.length === 1, 'alice told of the completion');
    expect(alice.completed).toEqual([elicitationId]);
    await sleep(100);
    expect(bob.completed).toEqual([]);
  });

  it('refuses URL elicitation to a client that declared form mode only', async () => {
    await using env = await setup();
    await using formOnly = await answeringClient(env.gw, 'form-only', { elicitation: {} });
    const result = await callText(formOnly.client, 'asking__elicit_url', { url: 'https://example.com/sign-in' });
    expect(result.isError).toBe(true);
    expect(result.text).toContain('elicitation.url');
    expect(formOnly.elicited).toEqual([]);
  });
});

describe('two callers on one shared backend', () => {
  it('over Streamable HTTP, each gets its own elicitation (attributed by the response stream)', async () => {
    await using server = await spawnListening([ASKING], { ASKING_HTTP: '1' });
    await using gw = await startGateway({ asking: { type: 'http', url: server.url.href } });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    // Alice holds her answer until Bob has been asked, so both calls are in flight at once.
    let bobAsked!: () => void;
    const bobWasAsked = new Promise<void>((resolve) => (bobAsked = resolve));
    await using alice = await answeringClient(gw, 'alice', EVERYTHING_ASKED, () => bobWasAsked);
    await using bob = await answeringClient(gw, 'bob', EVERYTHING_ASKED, async () => bobAsked());
    const aliceCall = callText(alice.client, 'asking__elicit_form', { message: 'for alice' });
    await waitFor(() => alice.elicited.length === 1, 'alice asked');
    const bobResult = await callText(bob.client, 'asking__elicit_form', { message: 'for bob' });
    const aliceResult = await aliceCall;
    expect(JSON.parse(aliceResult.text)).toEqual({ action: 'accept', content: { name: 'alice' } });
    expect(JSON.parse(bobResult.text)).toEqual({ action: 'accept', content: { name: 'bob' } });
    expect(alice.elicited.map((p) => p.message)).toEqual(['for alice']);
    expect(bob.elicited.map((p) => p.message)).toEqual(['for bob']);
  });

  it('over Streamable HTTP, a question on the GET stream goes to the one call in flight', async () => {
    await using server = await spawnListening([ASKING], { ASKING_HTTP: '1', ASKING_UNRELATED: '1' });
    await using gw = await startGateway({ asking: { type: 'http', url: server.url.href } });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    await using alice = await answeringClient(gw, 'alice');
    const result = await callText(alice.client, 'asking__elicit_form', { message: 'for alice' });
    expect(JSON.parse(result.text)).toEqual({ action: 'accept', content: { name: 'alice' } });
  });

  it('over stdio, a question asked while two calls are in flight is refused with the reason', async () => {
    await using gw = await startGateway({ asking: nodeBackend(ASKING) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    // Alice is asked while hers is the only call; she answers only after Bob's call has ended.
    let bobDone!: () => void;
    const bobFinished = new Promise<void>((resolve) => (bobDone = resolve));
    await using alice = await answeringClient(gw, 'alice', EVERYTHING_ASKED, () => bobFinished);
    await using bob = await answeringClient(gw, 'bob');
    const aliceCall = callText(alice.client, 'asking__elicit_form', { message: 'for alice' });
    await waitFor(() => alice.elicited.length === 1, 'alice asked');
    const bobResult = await callText(bob.client, 'asking__elicit_form', { message: 'for bob' });
    bobDone();
    expect(bobResult.isError).toBe(true);
    expect(bobResult.text).toContain('2 client calls are in flight on this backend');
    expect(bob.elicited).toEqual([]);
    expect(JSON.parse((await aliceCall).text)).toEqual({ action: 'accept', content: { name: 'alice' } });
  });

  it('with per-client instances over stdio, each client gets its own elicitation', async () => {
    await using gw = await startGateway({ asking: nodeBackend(ASKING, [], {}, { instances: 'per-client' }) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    expect(gw.gateway.backendStatuses()[0]!.clientInstances).toBe(0);
    // Two OAuth clients (a personal token is a client of its own), so two instances.
    const { token: bobToken } = await gw.gateway.createPersonalToken({ name: 'bob', scopes: ['*'], ttlSeconds: 600 });
    let bobAsked!: () => void;
    const bobWasAsked = new Promise<void>((resolve) => (bobAsked = resolve));
    await using alice = await answeringClient(gw, 'alice', EVERYTHING_ASKED, () => bobWasAsked);
    await using bob = await answeringClient(gw, 'bob', EVERYTHING_ASKED, async () => bobAsked(), bobToken);
    const aliceCall = callText(alice.client, 'asking__elicit_form', { message: 'for alice' });
    await waitFor(() => alice.elicited.length === 1, 'alice asked');
    const bobResult = await callText(bob.client, 'asking__elicit_form', { message: 'for bob' });
    expect(JSON.parse(bobResult.text)).toEqual({ action: 'accept', content: { name: 'bob' } });
    expect(JSON.parse((await aliceCall).text)).toEqual({ action: 'accept', content: { name: 'alice' } });
    expect(bob.elicited.map((p) => p.message)).toEqual(['for bob']);
    // The status counts the clients' own instances (the console shows it under the server's name).
    expect(gw.gateway.backendStatuses()[0]!.clientInstances).toBe(2);
  });

  it('reports no client instances for a shared backend', async () => {
    await using gw = await startGateway({ asking: nodeBackend(ASKING) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready');
    await using alice = await answeringClient(gw, 'alice');
    await callText(alice.client, 'asking__elicit_form', { message: 'for alice' });
    expect(gw.gateway.backendStatuses()[0]!.clientInstances).toBeUndefined();
  });
});
