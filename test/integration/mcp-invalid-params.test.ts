import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TOY, nodeBackend, startGateway, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, rawMcp } from '../helpers/raw-mcp.js';

const META = join(ROOT, 'test/fixtures/meta-server.mjs');

/**
 * JSON-RPC 2.0 §5.1: invalid method parameters are -32602. Every method a session serves answers
 * malformed params with -32602 and a short message naming the param, never -32603 or a zod dump.
 */
describe('invalid params, method by method', () => {
  let gw: RunningGateway;
  let session: string;

  beforeAll(async () => {
    // Both backends: the session is offered every capability, so every method is served.
    gw = await startGateway({ toy: nodeBackend(TOY), meta: nodeBackend(META) });
    await waitFor(() => gw.gateway.backendStatuses().every((s) => s.state === 'ready'), 'backends ready', 30_000);
    session = await openSession(gw.mcpUrl, gw.token);
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  const cases: Array<[string, string, unknown, string]> = [
    [
      'tools/call',
      'with arguments that are not an object',
      { name: 'toy__echo', arguments: 'x' },
      'params.arguments: ',
    ],
    ['tools/call', 'without a name', { arguments: {} }, 'params.name: required (expected string)'],
    ['tools/list', 'with a cursor that is not a string', { cursor: 3 }, 'params.cursor: '],
    ['resources/read', 'without a uri', {}, 'params.uri: required (expected string)'],
    ['resources/list', 'with a cursor that is not a string', { cursor: {} }, 'params.cursor: '],
    ['resources/templates/list', 'with a cursor that is not a string', { cursor: [] }, 'params.cursor: '],
    ['resources/subscribe', 'without a uri', {}, 'params.uri: required (expected string)'],
    ['resources/unsubscribe', 'with a uri that is not a string', { uri: 1 }, 'params.uri: '],
    ['prompts/get', 'without a name', {}, 'params.name: required (expected string)'],
    [
      'prompts/get',
      'with an argument that is not a string',
      { name: 'meta__meta', arguments: { word: 1 } },
      'params.arguments.word: ',
    ],
    ['prompts/list', 'with a cursor that is not a string', { cursor: 1 }, 'params.cursor: '],
    [
      'completion/complete',
      'without a ref name',
      { ref: { type: 'ref/prompt' }, argument: { name: 'w', value: '' } },
      'params.ref.name: ',
    ],
    [
      'completion/complete',
      'without an argument',
      { ref: { type: 'ref/prompt', name: 'meta__meta' } },
      'params.argument: ',
    ],
    ['logging/setLevel', 'with an unknown level', { level: 'loud' }, 'params.level: '],
  ];

  for (const [method, what, params, named] of cases) {
    it(`${method} ${what}`, async () => {
      const answer = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId: session,
        body: { jsonrpc: '2.0', id: 1, method, params },
      });
      expect(answer.messages).toHaveLength(1);
      const { error } = answer.messages[0] as { error: { code: number; message: string } };
      expect(error.code).toBe(-32602);
      expect(error.message.startsWith(`Invalid params: ${named}`), error.message).toBe(true);
      // One short sentence, not a dump of the schema's issues.
      expect(error.message.length).toBeLessThan(200);
      expect(error.message).not.toContain('\n');
    });
  }
});
