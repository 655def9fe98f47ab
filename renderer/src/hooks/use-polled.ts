import { useEffect, useState } from 'react';
import { SignedOutError } from '../api.js';

/**
 * Loads now and again every `everyMs` (the CLI and other clients change things while a page is
 * open); `reload` loads at once, after an action. A signed-out error is left to the Servers page's
 * sign-in card; other load failures come back as their message.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number) {
  const [value, setValue] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    const run = () =>
      load().then(
        (v) => alive && (setValue(v), setError(undefined)),
        (e: unknown) =>
          alive && setError(e instanceof SignedOutError ? undefined : e instanceof Error ? e.message : String(e)),
      );
    void run();
    const timer = setInterval(() => void run(), everyMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
    // `load` is a fresh closure each render; polling restarts only on reload.
  }, [tick]);
  return { value, error, setValue, reload: () => setTick((n) => n + 1) };
}
