import { describe, expect, it } from 'vitest';
import type { ConsoleSessionStore } from '../store/console-sessions.js';
import { ConsoleSessions, isOwnOrigin, LEGACY_CONSOLE_COOKIE, type RequestLike } from './console-auth.js';

const DAY = 24 * 3600_000;

/**
 * A store that keeps what it is given, as the file would; `failNext` makes the next save fail. With
 * `slowFirst`, earlier saves take longer: unserialized writes would land out of order.
 */
function memoryStore(options: { slowFirst?: boolean } = {}) {
  let saved = new Map<string, number>();
  let failure: NodeJS.ErrnoException | undefined;
  let saves = 0;
  const store: ConsoleSessionStore & { saved: () => Map<string, number>; failNext(code: string): void } = {
    load: async () => new Map(saved),
    save: async (sessions) => {
      const copy = new Map(sessions);
      if (options.slowFirst) await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - 10 * saves++)));
      if (failure) {
        const error = failure;
        failure = undefined;
        throw error;
      }
      saved = copy;
    },
    saved: () => saved,
    failNext(code) {
      failure = Object.assign(new Error(`${code}: write failed`), { code });
    },
  };
  return store;
}

/** The listener these requests arrive on: http://127.0.0.1:3590. */
const PORT = 3590;
const OWN = `http://127.0.0.1:${PORT}`;

/** A request as node:http hands it over, no socket needed: headers (lowercased names) and the listener's port. */
function request(
  headers: Record<string, string | undefined>,
  options: { method?: string; localPort?: number; encrypted?: boolean } = {},
): RequestLike {
  const defined = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
  return {
    method: options.method ?? 'GET',
    headers: { host: `127.0.0.1:${PORT}`, ...defined },
    socket: { localPort: options.localPort ?? PORT, ...(options.encrypted ? { encrypted: true } : {}) },
  };
}

/** A request carrying this session secret (and this Origin, if any). */
const withSession = (secret: string, origin?: string, method = 'POST') =>
  request({ 'x-cortex-session': secret, origin }, { method });

async function signIn(sessions: ConsoleSessions): Promise<string> {
  const session = await sessions.redeem(sessions.loginToken());
  return session!.secret;
}

describe('console sessions with a store', () => {
  it('keeps a session across instances (a gateway restart), holding only its hash', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const cookie = await signIn(new ConsoleSessions({ clock, store }));
    expect(JSON.stringify([...store.saved()])).not.toContain(cookie);
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.signedIn(withSession(cookie))).toBe(true);
    expect(restarted.signedIn(withSession(cookie + 'x'))).toBe(false);
  });

  it('drops sessions that expired while the gateway was stopped', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const store = memoryStore();
    const cookie = await signIn(new ConsoleSessions({ clock, store }));
    now += 7 * DAY + 1;
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.signedIn(withSession(cookie))).toBe(false);
  });

  it('removes a signed-out session from the store before the sign-out answers', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const sessions = new ConsoleSessions({ clock, store });
    const cookie = await signIn(sessions);
    const kept = await signIn(sessions);
    expect(await sessions.end(withSession(cookie))).toBe(true);
    expect(store.saved().size).toBe(1);
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.signedIn(withSession(cookie))).toBe(false);
    expect(restarted.signedIn(withSession(kept))).toBe(true);
  });

  it('fails the sign-out with disk_full when the store cannot record it, and refuses the session anyway', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const sessions = new ConsoleSessions({ clock, store });
    const cookie = await signIn(sessions);
    store.failNext('ENOSPC');
    await expect(sessions.end(withSession(cookie))).rejects.toMatchObject({ code: 'disk_full' });
    expect(sessions.signedIn(withSession(cookie))).toBe(false);
    // The next write saves the whole current state, the signed-out session no longer in it.
    await signIn(sessions);
    expect(store.saved().size).toBe(1);
  });

  it('still signs in when the session cannot be saved (it lasts until the gateway stops)', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const sessions = new ConsoleSessions({ clock, store });
    store.failNext('EACCES');
    const cookie = await signIn(sessions);
    expect(sessions.signedIn(withSession(cookie))).toBe(true);
  });

  it('keeps one-time login links in memory only: a link from before a restart is refused', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const link = new ConsoleSessions({ clock, store }).loginToken();
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(await restarted.redeem(link)).toBeUndefined();
  });

  it('writes one change at a time, the last write holding every session', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore({ slowFirst: true });
    const sessions = new ConsoleSessions({ clock, store });
    const cookies = await Promise.all(Array.from({ length: 5 }, () => signIn(sessions)));
    expect(store.saved().size).toBe(5);
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    for (const cookie of cookies) expect(restarted.signedIn(withSession(cookie))).toBe(true);
  });
});

describe('isOwnOrigin: the listener its request came to, exactly', () => {
  it('accepts the Origin of the page this listener serves, for each loopback spelling', () => {
    expect(isOwnOrigin(request({ origin: OWN }))).toBe(true);
    expect(isOwnOrigin(request({ host: `localhost:${PORT}`, origin: `http://localhost:${PORT}` }))).toBe(true);
    expect(isOwnOrigin(request({ host: `[::1]:${PORT}`, origin: `http://[::1]:${PORT}` }))).toBe(true);
  });

  it('refuses another port of the same host, another spelling of this one, a null, missing or other-scheme Origin', () => {
    expect(isOwnOrigin(request({ origin: 'http://127.0.0.1:5173' }))).toBe(false);
    expect(isOwnOrigin(request({ origin: `http://localhost:${PORT}` }))).toBe(false);
    expect(isOwnOrigin(request({ origin: 'null' }))).toBe(false);
    expect(isOwnOrigin(request({}))).toBe(false);
    expect(isOwnOrigin(request({ origin: `https://127.0.0.1:${PORT}` }))).toBe(false);
    expect(isOwnOrigin(request({ origin: `${OWN}/app` }))).toBe(false);
  });

  it('refuses a loopback Host naming a port this listener is not on (a request relayed by another local server)', () => {
    const relayed = request({ host: '127.0.0.1:5173', origin: 'http://127.0.0.1:5173' });
    expect(isOwnOrigin(relayed)).toBe(false);
    expect(isOwnOrigin(request({ host: '127.0.0.1', origin: 'http://127.0.0.1' }, { localPort: 80 }))).toBe(true);
  });

  it('takes a Host the owner allowed (a proxy in front) as the proxy spells it', () => {
    const proxied = request({ host: 'gateway.internal', origin: 'http://gateway.internal' });
    expect(isOwnOrigin(proxied)).toBe(true);
  });
});

describe('ownerPresent: a live session in X-Cortex-Session, from the exact origin', () => {
  const frozen = () => {
    let now = 1_000_000;
    return { clock: { now: () => now }, advance: (ms: number) => (now += ms) };
  };

  it('is true for a live session sent from the console page', async () => {
    const sessions = new ConsoleSessions(frozen());
    expect(sessions.ownerPresent(withSession(await signIn(sessions), OWN))).toBe(true);
  });

  it('is false from another port of the same host', async () => {
    const sessions = new ConsoleSessions(frozen());
    expect(sessions.ownerPresent(withSession(await signIn(sessions), 'http://127.0.0.1:8080'))).toBe(false);
  });

  it('is false with a null Origin (a sandboxed frame, a file, a redirect across origins)', async () => {
    const sessions = new ConsoleSessions(frozen());
    expect(sessions.ownerPresent(withSession(await signIn(sessions), 'null'))).toBe(false);
  });

  it('is false without an Origin, even for a GET', async () => {
    const sessions = new ConsoleSessions(frozen());
    expect(sessions.ownerPresent(withSession(await signIn(sessions), undefined, 'GET'))).toBe(false);
  });

  it('is false once the session expired (7 days), true a moment before', async () => {
    const time = frozen();
    const sessions = new ConsoleSessions(time);
    const secret = await signIn(sessions);
    time.advance(7 * DAY - 1);
    expect(sessions.ownerPresent(withSession(secret, OWN))).toBe(true);
    time.advance(1);
    expect(sessions.ownerPresent(withSession(secret, OWN))).toBe(false);
  });

  it('is false for a signed-out session', async () => {
    const sessions = new ConsoleSessions(frozen());
    const secret = await signIn(sessions);
    expect(await sessions.end(withSession(secret, OWN))).toBe(true);
    expect(sessions.ownerPresent(withSession(secret, OWN))).toBe(false);
  });

  it('is false with an unknown secret, no secret, or the secret in the old cookie instead of the header', async () => {
    const sessions = new ConsoleSessions(frozen());
    const secret = await signIn(sessions);
    expect(sessions.ownerPresent(withSession(secret.slice(1), OWN))).toBe(false);
    expect(sessions.ownerPresent(request({ origin: OWN }, { method: 'POST' }))).toBe(false);
    const cookie = request({ origin: OWN, cookie: `${LEGACY_CONSOLE_COOKIE}=${secret}` }, { method: 'POST' });
    expect(sessions.ownerPresent(cookie)).toBe(false);
  });
});

describe('check: what an owner API route lets through', () => {
  it('lets a change through only from the exact origin, naming why it refuses', async () => {
    const sessions = new ConsoleSessions({ clock: { now: () => 1_000_000 } });
    const secret = await signIn(sessions);
    expect(sessions.check(withSession(secret, OWN, 'POST'))).toEqual({ ok: true });
    for (const origin of [undefined, 'null', 'http://127.0.0.1:8080']) {
      expect(sessions.check(withSession(secret, origin, 'DELETE'))).toMatchObject({ ok: false, status: 403 });
    }
    expect(sessions.check(withSession('nope', OWN, 'POST'))).toMatchObject({ ok: false, status: 401 });
  });

  it('lets a read through without an Origin (same-origin GETs send none), but not a foreign one or a cross-site fetch', async () => {
    const sessions = new ConsoleSessions({ clock: { now: () => 1_000_000 } });
    const secret = await signIn(sessions);
    expect(sessions.check(withSession(secret, undefined, 'GET'))).toEqual({ ok: true });
    expect(sessions.check(withSession(secret, OWN, 'GET'))).toEqual({ ok: true });
    expect(sessions.check(withSession(secret, 'http://127.0.0.1:8080', 'GET'))).toMatchObject({ status: 403 });
    const sameSite = request({ 'x-cortex-session': secret, 'sec-fetch-site': 'same-site' });
    expect(sessions.check(sameSite)).toMatchObject({ status: 403 });
    const sameOrigin = request({ 'x-cortex-session': secret, 'sec-fetch-site': 'same-origin' });
    expect(sessions.check(sameOrigin)).toEqual({ ok: true });
  });
});
