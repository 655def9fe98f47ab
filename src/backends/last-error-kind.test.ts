import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { probeBackend } from './probe.js';

/**
 * Each failure is recorded with its kind where it happens; these start one real backend per kind
 * (a child that cannot spawn, exits or stays silent; an HTTP server that refuses or is not there).
 */
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-kinds-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function firstFailure(entry: Record<string, unknown>) {
  const config = parseConfig({ mcpServers: { probe: entry } });
  const result = await probeBackend(config.backends[0]!, {
    settings: config.gateway,
    timeoutMs: 20_000,
    logger: silentLogger,
    clock: systemClock,
    clientInfo: { name: 'kinds-test', version: '0' },
    dataDir,
  });
  return result.status;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('lastErrorKind', () => {
  it('is not_started when the command does not exist', async () => {
    const status = await firstFailure({ command: 'cortex-no-such-command-kinds' });
    expect(status).toMatchObject({ state: 'down', lastErrorKind: 'not_started' });
    expect(status.lastError).toContain('command not found');
  });

  it('is not_started when the cwd is not a folder', async () => {
    const file = join(dataDir, 'a-file');
    await writeFile(file, '');
    const status = await firstFailure({ command: process.execPath, args: ['-e', ''], cwd: file });
    expect(status).toMatchObject({ state: 'down', lastErrorKind: 'not_started' });
  });

  it('is exited when the child ends during start-up', async () => {
    const status = await firstFailure({ command: process.execPath, args: ['-e', 'process.exit(3)'] });
    expect(status).toMatchObject({ state: 'down', lastErrorKind: 'exited' });
    expect(status.lastError).toContain('code 3');
  });

  it('is timeout when initialize is not answered in time', async () => {
    const status = await firstFailure({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      startupTimeoutMs: 300,
    });
    expect(status).toMatchObject({ state: 'down', lastErrorKind: 'timeout' });
  });

  it('is auth when an HTTP server answers 401', async () => {
    const server = createServer((_req, res) => res.writeHead(401).end('who are you'));
    const port = await listen(server);
    try {
      const status = await firstFailure({ type: 'http', url: `http://127.0.0.1:${port}/mcp` });
      expect(status).toMatchObject({ state: 'down', lastErrorKind: 'auth' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('is connection when nothing listens at the URL', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const status = await firstFailure({ type: 'http', url: `http://127.0.0.1:${port}/mcp` });
    expect(status).toMatchObject({ state: 'down', lastErrorKind: 'connection' });
  });
});
