import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ConsoleSessionStore } from '../store/console-sessions.js';
import { CONSOLE_COOKIE, ConsoleSessions } from './console-auth.js';

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

const request = (cookie: string) => ({ headers: { cookie: `${CONSOLE_COOKIE}=${cookie}` } }) as IncomingMessage;

async function signIn(sessions: ConsoleSessions): Promise<string> {
  const session = await sessions.redeem(sessions.loginToken());
  return session!.cookie;
}

describe('console sessions with a store', () => {
  it('keeps a session across instances (a gateway restart), holding only its hash', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const cookie = await signIn(new ConsoleSessions({ clock, store }));
    expect(JSON.stringify([...store.saved()])).not.toContain(cookie);
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.authenticated(request(cookie))).toBe(true);
    expect(restarted.authenticated(request(cookie + 'x'))).toBe(false);
  });

  it('drops sessions that expired while the gateway was stopped', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const store = memoryStore();
    const cookie = await signIn(new ConsoleSessions({ clock, store }));
    now += 7 * DAY + 1;
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.authenticated(request(cookie))).toBe(false);
  });

  it('removes a signed-out session from the store before the sign-out answers', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const sessions = new ConsoleSessions({ clock, store });
    const cookie = await signIn(sessions);
    const kept = await signIn(sessions);
    expect(await sessions.end(request(cookie))).toBe(true);
    expect(store.saved().size).toBe(1);
    const restarted = new ConsoleSessions({ clock, store });
    await restarted.load();
    expect(restarted.authenticated(request(cookie))).toBe(false);
    expect(restarted.authenticated(request(kept))).toBe(true);
  });

  it('fails the sign-out with disk_full when the store cannot record it, and refuses the session anyway', async () => {
    const clock = { now: () => 1_000_000 };
    const store = memoryStore();
    const sessions = new ConsoleSessions({ clock, store });
    const cookie = await signIn(sessions);
    store.failNext('ENOSPC');
    await expect(sessions.end(request(cookie))).rejects.toMatchObject({ code: 'disk_full' });
    expect(sessions.authenticated(request(cookie))).toBe(false);
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
    expect(sessions.authenticated(request(cookie))).toBe(true);
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
    for (const cookie of cookies) expect(restarted.authenticated(request(cookie))).toBe(true);
  });
});
