import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
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

  // The backend is fine: the call fails for want of the client's answer, and says so.
  const healthy = () => {
    const [status] = gw.gateway.backendStatuses();
    expect(status?.state).toBe('ready');
    expect(status?.lastError).toBeUndefined();
  };

  it('fails a 2025-11-25 call whose client cannot be asked: MissingRequiredClientCapability, with the reason', async () => {
    const client = new Client({ name: 'plain', version: '1.0.0' }, { capabilities: {} });
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcpUrl, {
        requestInit: { headers: { authorization: `Bearer ${gw.token}` } },
      }),
    );
    try {
      const error = await client.callTool({ name: 'modern__ask', arguments: { message: 'Name?' } }).then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string; data: unknown },
      );
      expect(error).toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { elicitation: { form: {} } } },
      });
      expect(error?.message).toMatch(
        /Backend "modern" asked for input during tools\/call \(elicitation\/create\).*refused elicitation\/create: the client did not declare the elicitation capability/,
      );
      expect(error?.message).not.toMatch(/failed/);
      healthy();
    } finally {
      await client.close();
    }
  });

  it('fails a 2026-07-28 call whose client cannot be asked: MissingRequiredClientCapability', async () => {
    const client = new ModernClient(
      { name: 'plain', version: '1.0.0' },
      { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new ModernTransport(gw.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${gw.token}` } } }),
    );
    try {
      const error = await client.callTool({ name: 'modern__ask', arguments: { message: 'Name?' } }).then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string; data: unknown },
      );
      expect(error).toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { elicitation: { form: {} } } },
        message: expect.stringMatching(/the client did not declare the elicitation capability/),
      });
      healthy();
    } finally {
      await client.close();
    }
  });

  it("fails a call whose client answered the question with an error, with the client's error", async () => {
    const client = new Client({ name: 'refuser', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, () => {
      throw new McpError(-1, 'User rejected the request');
    });
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcpUrl, {
        requestInit: { headers: { authorization: `Bearer ${gw.token}` } },
      }),
    );
    try {
      const error = await client.callTool({ name: 'modern__ask', arguments: { message: 'Name?' } }).then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string },
      );
      expect(error?.code).toBe(-1);
      expect(error?.message).toMatch(
        /Backend "modern" asked for input during tools\/call \(elicitation\/create\).*the client answered with an error: .*User rejected the request/,
      );
      healthy();
    } finally {
      await client.close();
    }
  });
});
