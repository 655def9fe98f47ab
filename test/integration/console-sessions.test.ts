import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CONSOLE_SESSIONS_FILE, createGateway, type Gateway } from '../../src/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { consoleSignIn, redeemLink, type ConsoleSession } from '../helpers/console-session.js';

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

  /** Signs in as the console page does, with the one-time link: the session it keeps. */
  const signIn = (gateway: Gateway) => consoleSignIn(gateway.consoleLoginUrl());

  /** GET /api/backends as the console sends it, to the origin given (the session's, before a restart). */
  const backends = (origin: string, session: ConsoleSession) =>
    fetch(`${origin}/api/backends`, { headers: session.headers() });
  /** A change as the console sends it: pausing (and resuming) serving, from the session's origin. */
  const change = (origin: string, session: ConsoleSession) =>
    fetch(`${origin}/api/gateway`, {
      method: 'PUT',
      headers: session.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ paused: false }),
    });

  it('accepts the same session after a restart, for reads and for changes', async () => {
    let port: number;
    let session: ConsoleSession;
    {
      await using first = await start();
      port = first.address.port;
      session = await signIn(first.gateway);
      expect((await backends(first.address.origin, session)).status).toBe(200);
    }
    await using second = await start({ port });
    const res = await backends(second.address.origin, session);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, value: [] });
    expect((await change(second.address.origin, session)).status).toBe(200);
    const view = await fetch(`${second.address.origin}/api/session`, { headers: session.headers() });
    expect(((await view.json()) as { value: { signedIn: boolean } }).value.signedIn).toBe(true);
  });

  it('sets no cookie at sign-in, and expires the one older versions set', async () => {
    await using gw = await start();
    const res = await redeemLink(gw.gateway.consoleLoginUrl());
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^cortex_console=;/);
    expect(cookies[0]).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves the sign-in link as the console page, sends no Referer from it, and leaves the token to the page to spend', async () => {
    await using gw = await start();
    const link = gw.gateway.consoleLoginUrl();
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Cortex</title>');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.getSetCookie()).toEqual([]);
    // Opening the link (a preview, a prefetch) did not spend it: the page's POST does.
    expect((await redeemLink(link)).status).toBe(200);
  });

  it('refuses a signed-out session after a restart', async () => {
    let port: number;
    let session: ConsoleSession;
    let other: ConsoleSession;
    {
      await using first = await start();
      port = first.address.port;
      session = await signIn(first.gateway);
      other = await signIn(first.gateway);
      const out = await fetch(`${first.address.origin}/api/session/logout`, {
        method: 'POST',
        headers: session.headers(),
      });
      expect(await out.json()).toEqual({ ok: true, value: null });
      expect(out.headers.getSetCookie()[0]).toMatch(/^cortex_console=;/);
      expect((await backends(first.address.origin, session)).status).toBe(401);
    }
    await using second = await start({ port });
    expect((await backends(second.address.origin, session)).status).toBe(401);
    expect((await change(second.address.origin, session)).status).toBe(401);
    // Signing out ends that session only.
    expect((await backends(second.address.origin, other)).status).toBe(200);
  });

  it('ends the session a browser held when it signs in again with a new link', async () => {
    await using gw = await start();
    const before = await signIn(gw.gateway);
    const again = await redeemLink(gw.gateway.consoleLoginUrl(), { 'x-cortex-session': before.secret });
    expect(again.status).toBe(200);
    expect((await backends(gw.address.origin, before)).status).toBe(401);
    const file = JSON.parse(await readFile(join(dataDir, CONSOLE_SESSIONS_FILE), 'utf8')) as { sessions: unknown[] };
    expect(file.sessions).toHaveLength(1);
  });

  it('stores hashes and expiry only, never the session secret, in a 0600 file', async () => {
    await using gw = await start();
    const { secret: value } = await signIn(gw.gateway);
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
    let session: ConsoleSession;
    {
      await using first = await start({ clock });
      port = first.address.port;
      session = await signIn(first.gateway);
    }
    now += 7 * DAY + 60_000;
    await using second = await start({ port, clock });
    expect((await backends(second.address.origin, session)).status).toBe(401);
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
    expect((await redeemLink(link)).status).toBe(401);
    expect(second.address.port).toBe(port);
  });

  it('starts with no sessions when the file is damaged, keeping it aside', async () => {
    await writeFile(join(dataDir, CONSOLE_SESSIONS_FILE), '{ not json');
    await using gw = await start();
    const session = await signIn(gw.gateway);
    expect((await backends(gw.address.origin, session)).status).toBe(200);
    const aside = (await readdir(dataDir)).filter((f) => f.startsWith(`${CONSOLE_SESSIONS_FILE}.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dataDir, aside[0]!), 'utf8')).toBe('{ not json');
  });

  it('keeps sessions in memory only without a data folder', async () => {
    const gateway = createGateway(parseConfig({ mcpServers: {}, gateway: { port: 0 } }), { consoleDir });
    await using _ = { [Symbol.asyncDispose]: () => gateway.stop() };
    const { origin } = await gateway.start();
    const session = await signIn(gateway);
    expect((await backends(origin, session)).status).toBe(200);
    expect(await readdir(dataDir)).toEqual([]);
  });
});
