import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  type ClientCapabilities,
} from '@modelcontextprotocol/client';
import {
  nodeBackend,
  ROOT,
  spawnListening,
  startGateway,
  text,
  waitFor,
  type ListeningProcess,
  type RunningGateway,
} from '../helpers/gateway.js';

const ASKING = join(ROOT, 'test/fixtures/asking-server.mjs');

const EVERYTHING_ASKED: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: false },
};

/**
 * A 2026-07-28 SDK 2.x client that declares `capabilities` and answers what an `input_required`
 * round asks through its handlers (the SDK fulfils rounds with them and retries by itself).
 */
async function modernClient(gw: RunningGateway, name: string, capabilities: ClientCapabilities = EVERYTHING_ASKED) {
  const client = new ModernClient(
    { name, version: '1.0.0' },
    { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const asked: string[] = [];
  if (capabilities.sampling) {
    client.setRequestHandler('sampling/createMessage', (request) => {
      asked.push('sampling');
      const content = request.params.messages[0]?.content;
      const prompt = content && 'text' in content ? content.text : '';
      return { role: 'assistant', content: { type: 'text', text: `${name} sampled: ${String(prompt)}` }, model: 'm' };
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(`elicitation ${request.params.mode ?? 'form'}`);
      return request.params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { name } };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler('roots/list', () => {
      asked.push('roots');
      return { roots: [{ uri: `file:///home/${name}`, name }] };
    });
  }
  await client.connect(
    new ModernTransport(gw.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${gw.token}` } } }),
  );
  return {
    client,
    asked,
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}

describe.each(['stdio', 'http'] as const)(
  'a 2025-11-25 backend (%s) asks a 2026-07-28 client through input_required rounds',
  (transport) => {
    let backend: ListeningProcess | undefined;
    let gw: RunningGateway;

    beforeAll(async () => {
      if (transport === 'http') {
        backend = await spawnListening([ASKING], { ASKING_HTTP: '1' });
        gw = await startGateway({ asking: { type: 'http', url: backend.url.href } });
      } else {
        gw = await startGateway({ asking: nodeBackend(ASKING) });
      }
      await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready', 30_000);
    }, 60_000);

    afterAll(async () => {
      await gw?.[Symbol.asyncDispose]();
      await backend?.[Symbol.asyncDispose]();
    });

    it('relays sampling, form and URL elicitation and roots, each answered by the client’s retry', async () => {
      await using c = await modernClient(gw, 'nova');
      const sampled = await c.client.callTool({ name: 'asking__sample', arguments: { prompt: 'hello' } });
      expect(text(sampled)).toContain('nova sampled: hello');
      const form = await c.client.callTool({ name: 'asking__elicit_form', arguments: { message: 'Your name?' } });
      expect(text(form)).toContain('"name":"nova"');
      const url = await c.client.callTool({ name: 'asking__elicit_url', arguments: { url: 'https://example.com/a' } });
      expect(text(url)).toContain('accept');
      const roots = await c.client.callTool({ name: 'asking__roots', arguments: {} });
      expect(text(roots)).toContain('file:///home/nova');
      expect(c.asked).toEqual(['sampling', 'elicitation form', 'elicitation url', 'roots']);
    });

    it('refuses to the backend what the client did not declare, and the tool reports it', async () => {
      await using c = await modernClient(gw, 'plain', {});
      const result = await c.client.callTool({ name: 'asking__sample', arguments: { prompt: 'x' } });
      expect(text(result)).toMatch(/asking failed: -32601 .*sampling/);
      expect(c.asked).toEqual([]);
    });

    // Over stdio a question names no call, so with two in flight the gateway cannot tell whose it
    // is and refuses it (the relay's one-call rule; `instances: "per-client"` is the way out).
    it.runIf(transport === 'http')('gives two concurrent callers each their own question', async () => {
      await using a = await modernClient(gw, 'ada');
      await using b = await modernClient(gw, 'bob');
      const [fromA, fromB] = await Promise.all([
        a.client.callTool({ name: 'asking__elicit_form', arguments: { message: 'A?' } }),
        b.client.callTool({ name: 'asking__elicit_form', arguments: { message: 'B?' } }),
      ]);
      expect(text(fromA)).toContain('"name":"ada"');
      expect(text(fromB)).toContain('"name":"bob"');
    });

    it.runIf(transport === 'stdio')('refuses a question it cannot attribute, saying why', async () => {
      await using a = await modernClient(gw, 'ada');
      await using b = await modernClient(gw, 'bob');
      const answers = (
        await Promise.all([
          a.client.callTool({ name: 'asking__elicit_form', arguments: { message: 'A?' } }),
          b.client.callTool({ name: 'asking__elicit_form', arguments: { message: 'B?' } }),
        ])
      ).map(text);
      expect(answers.some((answer) => /in flight/.test(answer))).toBe(true);
      expect(answers.every((answer) => /in flight|"name":"(ada|bob)"/.test(answer))).toBe(true);
    });
  },
);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON-RPC body read field by field
type Wire = Record<string, any>;

describe('input_required rounds on the wire', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ asking: nodeBackend(ASKING) });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'asking ready', 30_000);
  }, 60_000);
  afterAll(async () => gw?.[Symbol.asyncDispose]());

  const META = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
  };
  const call = (params: Record<string, unknown>, token = gw.token) =>
    fetch(gw.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'asking__elicit_form',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'asking__elicit_form', arguments: { message: 'Name?' }, _meta: META, ...params },
      }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Wire }));

  it('answers a question with input_required, and only its own principal may resume it', async () => {
    const first = await call({});
    expect(first.body.result.resultType).toBe('input_required');
    const [key, question] = Object.entries(
      first.body.result.inputRequests as Record<string, { method: string; params: { message: string } }>,
    )[0]!;
    expect(question.method).toBe('elicitation/create');
    expect(question.params.message).toBe('Name?');
    const state = first.body.result.requestState as string;

    const { token: other } = await gw.gateway.createPersonalToken({ name: 'other', scopes: ['*'], ttlSeconds: 600 });
    const stolen = await call({ requestState: state, inputResponses: { [key]: { action: 'decline' } } }, other);
    expect(stolen.body.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });

    const tampered = await call({ requestState: `${state}x`, inputResponses: { [key]: { action: 'decline' } } });
    expect(tampered.body.error).toMatchObject({ code: -32602 });

    const done = await call({
      requestState: state,
      inputResponses: { [key]: { action: 'accept', content: { name: 'Zed' } } },
    });
    expect(done.body.result.resultType).toBe('complete');
    expect(text(done.body.result)).toContain('"name":"Zed"');
  });
});
