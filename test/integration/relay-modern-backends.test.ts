import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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

const MODERN = join(ROOT, 'test/fixtures/modern-server.mjs');

/** A client that answers form elicitation with its name, after `hold` settles. */
interface Asked extends AsyncDisposable {
  call(message: string, signal?: AbortSignal): Promise<string>;
  /** The messages this client was asked, in order. */
  asked: string[];
}

/** A 2025-11-25 SDK 1.x client with a session. */
async function sessionClient(
  gw: RunningGateway,
  name: string,
  hold: (signal: AbortSignal) => Promise<unknown>,
): Promise<Asked> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  const asked: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
    asked.push(request.params.message);
    await hold(extra.signal);
    return { action: 'accept', content: { name } };
  });
  const transport = new StreamableHTTPClientTransport(gw.mcpUrl, {
    requestInit: { headers: { authorization: `Bearer ${gw.token}` } },
  });
  await client.connect(transport);
  return {
    asked,
    call: async (message, signal) =>
      text(await client.callTool({ name: 'modern__ask', arguments: { message } }, undefined, { signal })),
    async [Symbol.asyncDispose]() {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

/** A 2026-07-28 SDK 2.x client: the gateway asks it with input_required, and it answers on its retry. */
async function statelessClient(gw: RunningGateway, name: string, hold: () => Promise<unknown>): Promise<Asked> {
  const client = new ModernClient(
    { name, version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const asked: string[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params.message);
    await hold();
    return { action: 'accept', content: { name } };
  });
  await client.connect(
    new ModernTransport(gw.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${gw.token}` } } }),
  );
  return {
    asked,
    call: async (message) => text(await client.callTool({ name: 'modern__ask', arguments: { message } })),
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}

describe.each(['stdio', 'http'] as const)('a 2026-07-28 backend (%s) shared by two callers', (transport) => {
  let server: ListeningProcess | undefined;
  let gw: RunningGateway;

  beforeAll(async () => {
    if (transport === 'http') {
      server = await spawnListening([MODERN], { MODERN_HTTP: '1' });
      gw = await startGateway({ modern: { type: 'http', url: server.url.href } });
    } else {
      gw = await startGateway({ modern: nodeBackend(MODERN) });
    }
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'modern ready', 30_000);
  }, 60_000);

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  // Both calls are in flight on the one backend connection when each question comes (its
  // input_required result names no call on the wire): Ada holds her answer until Bob has been
  // asked or his call has ended, so a question put to the wrong client, or refused, shows.
  it.each([
    ['2025-11-25', sessionClient],
    ['2026-07-28', statelessClient],
  ] as const)('gives each %s caller its own question', async (_era, connect) => {
    let bobDone!: () => void;
    const bobSettled = new Promise<void>((resolve) => (bobDone = resolve));
    await using bob = await connect(gw, 'bob', async () => {});
    await using ada = await connect(gw, 'ada', () =>
      Promise.race([bobSettled, waitFor(() => bob.asked.length > 0, 'bob asked')]),
    );
    const adaCall = ada.call('For Ada?');
    adaCall.catch(() => {}); // awaited below; a failure before that must not go unhandled
    await waitFor(() => ada.asked.length === 1, 'ada asked');
    const bobAnswer = await bob.call('For Bob?').finally(bobDone);
    expect(JSON.parse(await adaCall)).toEqual({ action: 'accept', content: { name: 'ada' } });
    expect(JSON.parse(bobAnswer)).toEqual({ action: 'accept', content: { name: 'bob' } });
    expect(ada.asked).toEqual(['For Ada?']);
    expect(bob.asked).toEqual(['For Bob?']);
  });

  it('withdraws the question when its caller cancels the call', async () => {
    let withdrawn = false;
    await using ada = await sessionClient(
      gw,
      'ada',
      (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve((withdrawn = true)))),
    );
    const controller = new AbortController();
    const call = ada.call('Never mind?', controller.signal);
    call.catch(() => {});
    await waitFor(() => ada.asked.length === 1, 'ada asked');
    controller.abort();
    await expect(call).rejects.toThrow();
    await waitFor(() => withdrawn, 'the question withdrawn');
  });

  it('fails a call whose client cannot be asked, with the reason', async () => {
    const client = new Client({ name: 'plain', version: '1.0.0' }, { capabilities: {} });
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcpUrl, {
        requestInit: { headers: { authorization: `Bearer ${gw.token}` } },
      }),
    );
    try {
      await expect(client.callTool({ name: 'modern__ask', arguments: { message: 'Name?' } })).rejects.toThrow(
        /refused elicitation\/create: the client did not declare the elicitation capability/,
      );
    } finally {
      await client.close();
    }
  });
});
