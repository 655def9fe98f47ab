import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  TOY,
  connectClient,
  spawnListening,
  startGateway,
  text,
  waitFor,
  type RunningGateway,
} from '../helpers/gateway.js';

const statusOf = (running: RunningGateway, name: string) =>
  running.gateway.backendStatuses().find((s) => s.name === name)!;

/**
 * A loopback relay in front of a real HTTP backend that, while `failPings` is set, answers the
 * gateway's pings with 503: the backend looks unresponsive to the health check only, while its
 * tools still answer.
 */
async function pingBlocker(upstream: URL) {
  const state = { failPings: false };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (
        state.failPings &&
        body.length > 0 &&
        (JSON.parse(body.toString()) as { method?: string }).method === 'ping'
      ) {
        res.writeHead(503).end();
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name, value]) => typeof value === 'string' && name !== 'host'),
      ) as Record<string, string>;
      const init: RequestInit = { method: req.method ?? 'GET', headers };
      if (body.length > 0) init.body = body;
      fetch(new URL(req.url ?? '/', upstream), init)
        .then(async (answer) => {
          const forwarded: Record<string, string> = {};
          answer.headers.forEach((value, name) => {
            if (name !== 'content-length' && name !== 'transfer-encoding') forwarded[name] = value;
          });
          res.writeHead(answer.status, forwarded);
          if (!answer.body) return res.end();
          for await (const chunk of answer.body) res.write(chunk);
          res.end();
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a degraded backend', () => {
  it('is ready again at its first answer, without waiting for the next ping', async () => {
    await using toy = await spawnListening([TOY], { TOY_HTTP: '1', TOY_JSON: '1' });
    await using relay = await pingBlocker(toy.url);
    // One ping a second: the first missed one marks the backend degraded, and the call below lands
    // well before the next ping could say anything.
    await using running = await startGateway({ toy: { type: 'http', url: relay.url.href } }, { pingIntervalMs: 1_000 });
    await waitFor(() => statusOf(running, 'toy').state === 'ready', 'toy ready', 30_000);

    relay.state.failPings = true;
    await waitFor(() => statusOf(running, 'toy').state === 'degraded', 'a missed ping marks it degraded');
    expect(statusOf(running, 'toy').lastError).toMatch(/ping failed/);

    await using session = await connectClient(running.mcpUrl);
    expect(text(await session.client.callTool({ name: 'toy__echo', arguments: { text: 'alive' } }))).toBe('alive');
    expect(statusOf(running, 'toy')).toMatchObject({ state: 'ready', restartCount: 0 });
    expect(statusOf(running, 'toy').lastError).toBeUndefined();
    relay.state.failPings = false;
  });
});
