/**
 * The app's lifecycle: one copy at a time, a tray app that outlives its windows, and a quit that
 * first stops the gateway. Types only: main.ts passes Electron's `app`, Node tests a fake one.
 */
import type { Logger } from '../../../src/index.js';

/** The part of Electron's `app` the lifecycle uses. */
export interface AppLifecycle {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
}

export interface AppLifecycleHooks {
  /** Someone opened the app again: this copy shows itself (its console). */
  secondInstance: () => void;
  /**
   * Stops the gateway (its stdio children, runtime file and data-folder lock); undefined when none
   * was started, and the quit goes ahead at once.
   */
  stop: () => Promise<void> | undefined;
  /** The current logger (the app switches to its log file once that is open). */
  logger: () => Logger;
}

/**
 * Wires the lifecycle. Returns false when another copy already runs: this one has asked to quit,
 * and the other one got `second-instance`.
 */
export function wireAppLifecycle(app: AppLifecycle, hooks: AppLifecycleHooks): boolean {
  stopBeforeQuit(app, hooks);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => hooks.secondInstance());
  // Without a listener Electron quits when the last window closes; a tray app keeps running.
  app.on('window-all-closed', () => {});
  return true;
}

/**
 * Quitting holds the first quit until the gateway has stopped (a stop that fails is logged), then
 * quits again; that second quit goes through.
 */
function stopBeforeQuit(app: AppLifecycle, hooks: Pick<AppLifecycleHooks, 'stop' | 'logger'>): void {
  let stopping = false;
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    if (stopping) return event.preventDefault();
    const stop = hooks.stop();
    if (!stop) return;
    stopping = true;
    event.preventDefault();
    void stop
      .catch((error: unknown) => hooks.logger().error('gateway stop failed', { error: String(error) }))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });
}
