import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/index.js';

function occupy(): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      resolve({ port: (server.address() as { port: number }).port, close: () => server.close() });
    });
  });
}

describe('gateway listener', () => {
  it('falls back to a following port when the default one is busy', async () => {
    const busy = await occupy();
    try {
      await using gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: busy.port } }), {
        portFallback: true,
      });
      const address = await gateway.start();
      expect(address.port).toBeGreaterThan(busy.port);
      expect(address.port).toBeLessThanOrEqual(busy.port + 10);
    } finally {
      busy.close();
    }
  });

  it('fails with port_in_use when an explicit port is busy', async () => {
    const busy = await occupy();
    try {
      const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: busy.port } }));
      await expect(gateway.start()).rejects.toMatchObject({ code: 'port_in_use' });
    } finally {
      busy.close();
    }
  });

  it('serves the console at /app, unframeable (its files hold no data: the API is what needs the owner)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-console-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Cortex</title>');
    await using gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }), { consoleDir: dir });
    const { consoleUrl, origin } = await gateway.start();
    expect((await fetch(new URL('/api/backends', origin))).status).toBe(401);
    const res = await fetch(consoleUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>Cortex</title>');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    // Only its own scripts: an injected inline script or a foreign one does not run.
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
  });

  it('serves /healthz', async () => {
    await using gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }));
    const { origin } = await gateway.start();
    const res = await fetch(`${origin}/healthz`);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});
