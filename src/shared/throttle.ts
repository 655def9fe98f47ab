/**
 * Runs `fire` at most once per `windowMs`: at once when the window is free (leading edge), and
 * once more at the end of a window in which it was triggered again (trailing edge), so the last
 * trigger of a burst is never lost and a lone trigger is not delayed.
 */
export interface Throttle {
  trigger(): void;
  /** Drops a pending trailing run. */
  close(): void;
}

export function createThrottle(windowMs: number, fire: () => void): Throttle {
  let timer: NodeJS.Timeout | undefined;
  let again = false;
  const open = () => {
    timer = setTimeout(() => {
      timer = undefined;
      if (!again) return;
      again = false;
      fire();
      open();
    }, windowMs);
    timer.unref();
  };
  return {
    trigger() {
      if (timer) {
        again = true;
        return;
      }
      fire();
      open();
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      again = false;
    },
  };
}
