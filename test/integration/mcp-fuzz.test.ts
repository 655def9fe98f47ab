import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBackend, startGateway, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';
import { openSession, rawMcp, type RawAnswer } from '../helpers/raw-mcp.js';

/**
 * A seeded fuzz of /mcp: valid requests, every fault class, notifications, responses, batches,
 * duplicate ids in flight and cancellations, against a real gateway and a real backend. Every
 * HTTP exchange must end within a bound, and every request whose id is valid must be answered
 * with that id (an invalid id with null). Set FUZZ_SEED to replay a failing run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MESSAGES = 600;
const EXCHANGE_BOUND_MS = 8_000;
const CONCURRENCY = 8;

/** mulberry32: small, seedable, good enough to pick cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Message = unknown;
/**
 * One POST of a case, sent `delayMs` after the case starts; with `untilAnswered`, sent again every
 * 50 ms until the case's first POST is answered (a cancellation must not overtake its call).
 */
interface Post {
  body: unknown;
  accept?: string;
  delayMs?: number;
  untilAnswered?: boolean;
  /** Sent instead of the JSON of `body`: text that does not parse. */
  unparsable?: string;
}
interface Case {
  kind: string;
  posts: Post[];
}

function generator(seed: number) {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  let counter = 1;
  const freshId = () => (rand() < 0.5 ? counter++ : `f-${counter++}`);

  const validRequest = (id: unknown = freshId()): Message =>
    pick([
      () => ({ jsonrpc: '2.0', id, method: 'ping' }),
      () => ({ jsonrpc: '2.0', id, method: 'tools/list' }),
      () => ({ jsonrpc: '2.0', id, method: 'prompts/list', params: {} }),
      () => ({ jsonrpc: '2.0', id, method: 'resources/list' }),
      () => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'toy__echo', arguments: { text: `t${id}` } },
      }),
      () => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'toy__count', arguments: { steps: 3 }, _meta: { progressToken: `p${String(id)}` } },
      }),
      () => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami' } }),
      () => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'toy__nope', arguments: {} } }),
      () => ({ jsonrpc: '2.0', id, method: 'vendor/unknown', params: { x: 1 } }),
      () => ({ jsonrpc: '2.0', id, method: 'logging/setLevel', params: { level: 'info' } }),
      () => ({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    ])();
  const faultyRequest = (): Message =>
    pick([
      () => ({ jsonrpc: '2.0', id: pick([1.5, null, true, false, {}, [], 2 ** 53 + 2, -0.25]), method: 'ping' }),
      () => ({
        jsonrpc: '2.0',
        id: freshId(),
        method: 'tools/list',
        [pick(['extra', 'parms', 'result', 'Params'])]: {},
      }),
      () => ({
        jsonrpc: '2.0',
        id: freshId(),
        method: pick(['tools/list', 'tools/call', 'ping']),
        params: pick([[], [1, 2], 'x', 3, true]),
      }),
      () => ({
        jsonrpc: '2.0',
        id: freshId(),
        method: 'tools/call',
        params: { name: 'toy__echo', _meta: pick(['x', 1, [], null]) },
      }),
      () => ({ jsonrpc: '2.0', id: freshId(), method: 'tools/call', params: { name: pick([42, null, {}]) } }),
      () => ({
        jsonrpc: '2.0',
        id: freshId(),
        method: 'tools/call',
        params: { name: 'toy__echo', arguments: pick([[1], 'x', 5]) },
      }),
      () => ({ jsonrpc: '2.0', id: freshId(), method: 'resources/read', params: pick([{}, { uri: 5 }]) }),
      () => ({ jsonrpc: '2.0', id: freshId(), method: 'logging/setLevel', params: { level: 'loud' } }),
      () => ({ jsonrpc: '2.0', id: freshId(), method: 'completion/complete', params: { ref: { type: 'ref/other' } } }),
      () => ({
        jsonrpc: '2.0',
        id: freshId(),
        method: 'tools/call',
        params: { name: 'x', _meta: { progressToken: 1.5 } },
      }),
      () => ({ jsonrpc: pick(['1.0', 2, undefined]), id: freshId(), method: 'ping' }),
      () => ({ jsonrpc: '2.0', id: freshId(), method: pick([5, null, {}]) }),
      () => ({ jsonrpc: '2.0', id: freshId() }),
      () => pick([5, 'text', null, true, [1, 2]]),
    ])();
  const notification = (): Message =>
    pick([
      () => ({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      () => ({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }),
      () => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: `gone-${counter++}` } }),
      () => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: pick([[], { requestId: 1.5 }, 'x']) }),
      () => ({ jsonrpc: '2.0', method: 'notifications/initialized', extra: 1 }),
      () => ({ jsonrpc: '2.0', method: 'vendor/notify', params: { a: 1 } }),
      () => ({ jsonrpc: '2.0', id: `r-${counter++}`, result: {} }),
      () => ({ jsonrpc: '2.0', id: `r-${counter++}`, result: 5 }),
    ])();

  return (): Case => {
    const roll = rand();
    if (roll < 0.3) return { kind: 'valid', posts: [{ body: validRequest(), accept: pick(ACCEPTS) }] };
    if (roll < 0.6) return { kind: 'faulty', posts: [{ body: faultyRequest(), accept: pick(ACCEPTS) }] };
    if (roll < 0.7) return { kind: 'notification', posts: [{ body: notification() }] };
    if (roll < 0.72) {
      const text = pick(['{"jsonrpc": "2.0", "id": 1, "method": ', '', 'nope', '[{]', '{"id": 1}}']);
      return { kind: 'unparsable', posts: [{ body: text, unparsable: text }] };
    }
    if (roll < 0.86) {
      const size = 2 + Math.floor(rand() * 5);
      const items = Array.from({ length: size }, () => pick([validRequest, faultyRequest, notification])());
      return { kind: 'batch', posts: [{ body: items, accept: pick(ACCEPTS) }] };
    }
    if (roll < 0.94) {
      // The same id twice while the first is (most likely) still running.
      const id = freshId();
      const slow = {
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'toy__count', arguments: { steps: 20 } },
      };
      return {
        kind: 'duplicate',
        posts: [{ body: slow }, { body: validRequest(id), accept: pick(ACCEPTS), delayMs: 20 }],
      };
    }
    // A call cancelled while it runs (JSON mode: its POST must still end, with its id).
    const id = `c-${counter++}`;
    const hang = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'toy__hang', arguments: {} } };
    const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } };
    return {
      kind: 'cancel',
      posts: [
        { body: hang, accept: 'application/json' },
        { body: cancel, untilAnswered: true },
      ],
    };
  };
}

const ACCEPTS = ['application/json, text/event-stream', 'application/json', 'text/event-stream'] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isValidId = (id: unknown) => typeof id === 'string' || Number.isSafeInteger(id);
/**
 * What must be answered: anything that is not an object (JSON-RPC 2.0 §6: `[1,2,3]` gets three
 * errors), and an object with an id member that is not a response (§4.1: without an id, a
 * notification, never answered).
 */
const mustAnswer = (m: unknown): boolean =>
  !isObject(m) || ('id' in m && ('method' in m || !('result' in m || 'error' in m)));

function countMessages(c: Case): number {
  return c.posts.reduce((n, post) => n + (Array.isArray(post.body) ? post.body.length : 1), 0);
}

describe(`fuzzed JSON-RPC on /mcp (FUZZ_SEED=${SEED})`, () => {
  let gw: RunningGateway;
  let sessions: string[];

  beforeAll(async () => {
    gw = await startGateway({ toy: nodeBackend(TOY) }, { requestTimeoutMs: 30_000 });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'toy ready', 30_000);
    // 2025-03-26 sessions: the fuzz sends batches, which later revisions refuse as a whole.
    sessions = [
      await openSession(gw.mcpUrl, gw.token, '2025-03-26'),
      await openSession(gw.mcpUrl, gw.token, '2025-03-26'),
    ];
  });

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
  });

  it(`answers every request of ${MESSAGES}+ messages, each exchange within ${EXCHANGE_BOUND_MS} ms`, async () => {
    const next = generator(SEED);
    const cases: Case[] = [];
    let total = 0;
    while (total < MESSAGES) {
      const c = next();
      cases.push(c);
      total += countMessages(c);
    }

    const failures: string[] = [];
    const runCase = async (c: Case, index: number) => {
      const sessionId = sessions[index % sessions.length]!;
      let firstDone = false;
      const send = async (post: Post) => {
        try {
          const body = post.unparsable ?? JSON.stringify(post.body);
          const options = { token: gw.token, sessionId, body, timeoutMs: EXCHANGE_BOUND_MS };
          return await rawMcp(gw.mcpUrl, post.accept ? { ...options, accept: post.accept } : options);
        } catch (error) {
          failures.push(`case ${index} (${c.kind}): ${String(error)}`);
          return undefined;
        }
      };
      const answers = await Promise.all(
        c.posts.map(async (post, i) => {
          if (post.delayMs) await new Promise((resolve) => setTimeout(resolve, post.delayMs));
          let answer = await send(post);
          if (i === 0) firstDone = true;
          const deadline = Date.now() + EXCHANGE_BOUND_MS;
          while (post.untilAnswered && !firstDone && answer && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            if (!firstDone) answer = await send(post);
          }
          return answer;
        }),
      );
      c.posts.forEach((post, i) => {
        const answer = answers[i];
        if (answer) check(c, index, post, answer, failures);
      });
    };

    const started = Date.now();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < cases.length) {
          const index = cursor++;
          await runCase(cases[index]!, index);
        }
      }),
    );
    const elapsed = Date.now() - started;

    expect(failures, `FUZZ_SEED=${SEED}: ${failures.slice(0, 10).join('\n')}`).toEqual([]);
    expect(elapsed, `FUZZ_SEED=${SEED}`).toBeLessThan(45_000);
    // The sessions are still usable afterwards.
    for (const sessionId of sessions) {
      const answer = await rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId,
        body: { jsonrpc: '2.0', id: 'after', method: 'ping' },
      });
      expect(answer.messages, `FUZZ_SEED=${SEED}`).toEqual([{ jsonrpc: '2.0', id: 'after', result: {} }]);
    }
  }, 60_000);
});

function check(c: Case, index: number, post: Post, answer: RawAnswer, failures: string[]): void {
  const where = `case ${index} (${c.kind}) ${JSON.stringify(post.body).slice(0, 160)} → ${answer.status} ${answer.body.slice(0, 160)}`;
  if (post.unparsable !== undefined) {
    // JSON-RPC 2.0 §5.1: -32700 with id null; an HTTP error, since there is no message to answer.
    const parsed = answer.messages[0];
    if (answer.status !== 400 || (parsed?.error as { code?: number })?.code !== -32700 || parsed?.id !== null) {
      failures.push(`${where}: expected 400 with -32700 and id null`);
    }
    return;
  }
  const items = Array.isArray(post.body) ? post.body : [post.body];
  const requests = items.filter(mustAnswer);
  if (requests.length === 0) {
    // Only notifications or responses: 202 when accepted, 400 when refused, never left open.
    if (answer.status !== 202 && answer.status !== 400) failures.push(`${where}: expected 202 or 400`);
    return;
  }
  if (answer.status !== 200) {
    failures.push(`${where}: expected 200`);
    return;
  }
  const ids = answer.messages.filter((m) => 'result' in m || 'error' in m).map((m) => m.id);
  for (const request of requests) {
    const id = isObject(request) ? request.id : null;
    const expected = isValidId(id) ? id : null;
    if (!ids.some((answered) => answered === expected)) {
      failures.push(`${where}: no answer with id ${JSON.stringify(expected)}`);
    }
  }
}
