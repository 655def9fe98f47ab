import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/index.js';
import { silentLogger } from '../../../src/index.js';
import { wireAppLifecycle, type AppLifecycle } from './app-events.js';

/** Electron's `app` as far as the lifecycle goes: quit() emits before-quit, and quits unless prevented. */
function fakeApp(options: { primary: boolean }) {
  const emitter = new EventEmitter();
  const seen = { quits: 0, quitted: false };
  const app: AppLifecycle & { emit: EventEmitter['emit']; listenerCount: EventEmitter['listenerCount'] } = {
    requestSingleInstanceLock: () => options.primary,
    quit() {
      seen.quits += 1;
      let prevented = false;
      emitter.emit('before-quit', { preventDefault: () => (prevented = true) });
      if (!prevented) seen.quitted = true;
    },
    on: (event: string, listener: (event: { preventDefault(): void }) => void) => emitter.on(event, listener),
    emit: (event, ...args) => emitter.emit(event, ...args),
    listenerCount: (event) => emitter.listenerCount(event),
  };
  return { app, seen };
}

function recordingLogger(errors: string[]): Logger {
  return { ...silentLogger, error: (message) => void errors.push(message), child: () => recordingLogger(errors) };
}

describe('app lifecycle', () => {
  it('quits a second copy and lets the first one show itself', () => {
    const second = fakeApp({ primary: false });
    expect(
      wireAppLifecycle(second.app, { secondInstance: () => {}, stop: () => undefined, logger: () => silentLogger }),
    ).toBe(false);
    expect(second.seen.quitted).toBe(true);

    const first = fakeApp({ primary: true });
    let shown = 0;
    expect(
      wireAppLifecycle(first.app, { secondInstance: () => shown++, stop: () => undefined, logger: () => silentLogger }),
    ).toBe(true);
    first.app.emit('second-instance');
    expect(shown).toBe(1);
  });

  it('keeps running when the last window closes', () => {
    const { app } = fakeApp({ primary: true });
    wireAppLifecycle(app, { secondInstance: () => {}, stop: () => undefined, logger: () => silentLogger });
    expect(app.listenerCount('window-all-closed')).toBe(1);
  });

  it('stops the gateway before quitting, once, then quits', async () => {
    const { app, seen } = fakeApp({ primary: true });
    let release!: () => void;
    let stops = 0;
    const stopped = new Promise<void>((resolve) => (release = resolve));
    wireAppLifecycle(app, {
      secondInstance: () => {},
      stop: () => (stops++, stopped),
      logger: () => silentLogger,
    });
    app.quit();
    app.quit(); // a second quit while stopping waits too
    expect(seen.quitted).toBe(false);
    release();
    await expect.poll(() => seen.quitted).toBe(true);
    expect(stops).toBe(1);
  });

  it('quits even when the stop fails, saying so in the log', async () => {
    const { app, seen } = fakeApp({ primary: true });
    const errors: string[] = [];
    wireAppLifecycle(app, {
      secondInstance: () => {},
      stop: () => Promise.reject(new Error('disk gone')),
      logger: () => recordingLogger(errors),
    });
    app.quit();
    await expect.poll(() => seen.quitted).toBe(true);
    expect(errors).toEqual(['gateway stop failed']);
  });

  it('quits at once when no gateway was started', () => {
    const { app, seen } = fakeApp({ primary: true });
    wireAppLifecycle(app, { secondInstance: () => {}, stop: () => undefined, logger: () => silentLogger });
    app.quit();
    expect(seen.quitted).toBe(true);
  });
});
