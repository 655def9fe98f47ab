import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { ROOT, nodeBackend, startGateway, waitFor } from '../helpers/gateway.js';
import { openSession, rawMcp } from '../helpers/raw-mcp.js';

/** A clock the test moves: the gateway measures idleness and least recent use on it. */
function steppedClock() {
  const clock = { offset: 0, now: () => Date.now() + clock.offset, step: (ms = 1000) => (clock.offset += ms) };
  return clock;
}

const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });

describe('client sessions are bounded', () => {
  it('keeps at most maxSessionsPerClient per client, closing that client’s least recently used one', async () => {
    const clock = steppedClock();
    await using gw = await startGateway({}, { maxSessionsPerClient: 2, maxSessions: 10 }, { clock });
    const status = async (sessionId: string) =>
      (await rawMcp(gw.mcpUrl, { token: gw.token, sessionId, body: ping(1) })).status;

    const first = await openSession(gw.mcpUrl, gw.token);
    clock.step();
    const second = await openSession(gw.mcpUrl, gw.token);
    clock.step();
    // The first is used again, so the second is now the least recently used.
    expect(await status(first)).toBe(200);
    clock.step();
    const { token: otherToken } = await gw.gateway.createPersonalToken({
      name: 'other',
      scopes: ['*'],
      ttlSeconds: 600,
    });
    const others = [await openSession(gw.mcpUrl, otherToken), await openSession(gw.mcpUrl, otherToken)];
    clock.step();

    const third = await openSession(gw.mcpUrl, gw.token);
    expect(await status(second)).toBe(404);
    expect(await status(first)).toBe(200);
    expect(await status(third)).toBe(200);
    // Another client's sessions count against its own cap, not this one's.
    for (const id of others) {
      expect((await rawMcp(gw.mcpUrl, { token: otherToken, sessionId: id, body: ping(1) })).status).toBe(200);
    }
  });

  it('keeps at most maxSessions in all, closing the least recently used of any client', async () => {
    const clock = steppedClock();
    await using gw = await startGateway({}, { maxSessionsPerClient: 10, maxSessions: 3 }, { clock });
    const { token: b } = await gw.gateway.createPersonalToken({ name: 'b', scopes: ['*'], ttlSeconds: 600 });
    const a1 = await openSession(gw.mcpUrl, gw.token);
    clock.step();
    const b1 = await openSession(gw.mcpUrl, b);
    clock.step();
    const a2 = await openSession(gw.mcpUrl, gw.token);
    clock.step();
    const b2 = await openSession(gw.mcpUrl, b);

    const answer = await rawMcp(gw.mcpUrl, { token: gw.token, sessionId: a1, body: ping('evicted') });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: '2.0',
      id: 'evicted',
      error: { code: -32001, message: 'Session not found' },
    });
    for (const [token, id] of [
      [b, b1],
      [gw.token, a2],
      [b, b2],
    ] as const) {
      expect((await rawMcp(gw.mcpUrl, { token, sessionId: id, body: ping(1) })).status).toBe(200);
    }
  });

  it('closes an idle session after sessionIdleMs measured on the gateway clock', async () => {
    const clock = steppedClock();
    const logs: string[] = [];
    const logger = createConsoleLogger({ level: 'info', write: (line) => logs.push(line) });
    await using gw = await startGateway({}, { sessionIdleMs: 60_000 }, { clock, logger });
    const idle = await openSession(gw.mcpUrl, gw.token);
    const busy = await openSession(gw.mcpUrl, gw.token);
    clock.step(40_000);
    expect((await rawMcp(gw.mcpUrl, { token: gw.token, sessionId: busy, body: ping(1) })).status).toBe(200);
    clock.step(25_000);
    // 65 s on the clock for the first, 25 s for the second: only the first is reaped.
    await waitFor(
      () => logs.some((line) => line.includes('closing idle session') && line.includes(idle)),
      'idle sweep',
    );
    expect((await rawMcp(gw.mcpUrl, { token: gw.token, sessionId: idle, body: ping(1) })).status).toBe(404);
    expect((await rawMcp(gw.mcpUrl, { token: gw.token, sessionId: busy, body: ping(1) })).status).toBe(200);
  });

  it('answers the requests still in flight when their session ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cortex-slow-'));
    const marks = join(dir, 'marks');
    try {
      await using gw = await startGateway({
        slow: nodeBackend(join(ROOT, 'test/fixtures/slow-server.mjs'), [], { SLOW_MARKS: marks }),
      });
      await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'slow backend ready', 30_000);
      const sessionId = await openSession(gw.mcpUrl, gw.token);
      const pending = rawMcp(gw.mcpUrl, {
        token: gw.token,
        sessionId,
        body: {
          jsonrpc: '2.0',
          id: 'h',
          method: 'tools/call',
          params: { name: 'slow__hang', arguments: { tag: 'h' } },
        },
      });
      await waitFor(() => existsSync(marks) && readFileSync(marks, 'utf8').includes('start h'), 'call at the backend');
      expect((await rawMcp(gw.mcpUrl, { token: gw.token, sessionId, method: 'DELETE' })).status).toBe(200);
      const answer = await pending;
      expect(JSON.parse(answer.body)).toEqual({
        jsonrpc: '2.0',
        id: 'h',
        error: { code: -32000, message: 'Session closed' },
      });
      await waitFor(() => readFileSync(marks, 'utf8').includes('cancelled h'), 'cancellation at the backend');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
