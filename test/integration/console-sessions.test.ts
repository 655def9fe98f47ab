import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CONSOLE_SESSIONS_FILE, createGateway, type Gateway } from '../../src/index.js';
import type { Clock } from '../../src/shared/clock.js';

const DAY = 24 * 3600_000;

// The console stays signed in across gateway restarts: sessions persist in the data folder.
describe('console sessions across gateway restarts', () => {
  let dataDir: string;
  let consoleDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cortex-sessions-'));
    consoleDir = await mkdtemp(join(tmpdir(), 'cortex-console-'));
    await writeFile(join(consoleDir, 'index.html'), '<!doctype html><title>Cortex</title>');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(consoleDir, { recursive: true, force: true });
  });

  /** A gateway on the shared data folder; on `port` when given (a restart keeps its port). */
  async function start(options: { port?: number; clock?: Clock } = {}) {
    const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: options.port ?? 0 } }), {
      dataDir,
      consoleDir,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const address = await gateway.start();
    return { gateway, address, [Symbol.asyncDispose]: () => gateway.stop() };
  }

  /** Signs in as a browser would, with the one-time link: the session cookie (`name=value`). */
  async function signIn(gateway: Gateway): Promise<string> {
    const login = await fetch(gateway.consoleLoginUrl(), { redirect: 'manual' });
    expect(login.status).toBe(303);
    return login.headers.get('set-cookie')!.split(';')[0]!;
  }

  const backends = (origin: string, cookie: string) => fetch(`${origin}/api/backends`, { headers: { cookie } });

  it('accepts the same session cookie after a restart', async () => {
    let port: number;
    let cookie: string;
    {
      await using first = await start();
      port = first.address.port;
      cookie = await signIn(first.gateway);
      expect((await backends(first.address.origin, cookie)).status).toBe(200);
    }
    await using second = await start({ port });
    const res = await backends(second.address.origin, cookie);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, value: [] });
    expect((await fetch(second.address.consoleUrl, { headers: { cookie } })).status).toBe(200);
  });

  it('keeps the cookie attributes: HttpOnly, SameSite=Strict, path /', async () => {
    await using gw = await start();
    const login = await fetch(gw.gateway.consoleLoginUrl(), { redirect: 'manual' });
    const attributes = login.headers
      .get('set-cookie')!
      .split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
  });

  it('refuses a signed-out session after a restart', async () => {
    let port: number;
    let cookie: string;
    let other: string;
    {
      await using first = await start();
      port = first.address.port;
      cookie = await signIn(first.gateway);
      other = await signIn(first.gateway);
      const out = await fetch(`${first.address.origin}/api/session/logout`, {
        method: 'POST',
        headers: { cookie, origin: first.address.origin },
      });
      expect(await out.json()).toEqual({ ok: true, value: null });
      expect((await backends(first.address.origin, cookie)).status).toBe(401);
    }
    await using second = await start({ port });
    expect((await backends(second.address.origin, cookie)).status).toBe(401);
    // Signing out ends that session only.
    expect((await backends(second.address.origin, other)).status).toBe(200);
  });

  it('stores hashes and expiry only, never the cookie value, in a 0600 file', async () => {
    await using gw = await start();
    const cookie = await signIn(gw.gateway);
    const value = cookie.split('=')[1]!;
    const path = join(dataDir, CONSOLE_SESSIONS_FILE);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(value);
    const file = JSON.parse(text) as { version: number; sessions: Array<Record<string, unknown>> };
    expect(file.version).toBe(1);
    expect(file.sessions).toHaveLength(1);
    expect(Object.keys(file.sessions[0]!).sort()).toEqual(['expiresAt', 'hash']);
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a session that expired while the gateway was stopped', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    let port: number;
    let cookie: string;
    {
      await using first = await start({ clock });
      port = first.address.port;
      cookie = await signIn(first.gateway);
    }
    now += 7 * DAY + 60_000;
    await using second = await start({ port, clock });
    expect((await backends(second.address.origin, cookie)).status).toBe(401);
  });

  it('refuses a one-time link printed before the restart', async () => {
    let port: number;
    let link: string;
    {
      await using first = await start();
      port = first.address.port;
      link = first.gateway.consoleLoginUrl();
    }
    await using second = await start({ port });
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
    expect(second.address.port).toBe(port);
  });

  it('starts with no sessions when the file is damaged, keeping it aside', async () => {
    await writeFile(join(dataDir, CONSOLE_SESSIONS_FILE), '{ not json');
    await using gw = await start();
    const cookie = await signIn(gw.gateway);
    expect((await backends(gw.address.origin, cookie)).status).toBe(200);
    const aside = (await readdir(dataDir)).filter((f) => f.startsWith(`${CONSOLE_SESSIONS_FILE}.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dataDir, aside[0]!), 'utf8')).toBe('{ not json');
  });

  it('keeps sessions in memory only without a data folder', async () => {
    const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }), { consoleDir });
    await using _ = { [Symbol.asyncDispose]: () => gateway.stop() };
    const { origin } = await gateway.start();
    const cookie = await signIn(gateway);
    expect((await backends(origin, cookie)).status).toBe(200);
    expect(await readdir(dataDir)).toEqual([]);
  });
});
