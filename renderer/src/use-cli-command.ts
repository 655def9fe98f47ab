import { useEffect, useState } from 'react';
import { api } from './api.js';

const FALLBACK = 'cortex-gateway';
let known: string | undefined;
let loading: Promise<string> | undefined;

/**
 * How the owner types the CLI on the gateway's machine (`cortex-gateway`, a launcher's path, or
 * `node …/dist/cortex-gateway.mjs` in a clone), from /api/gateway. Fetched once and kept for the
 * page's life: the signed-out notice needs it after the API has stopped answering.
 */
export function useCliCommand(): string {
  const [command, setCommand] = useState(known ?? FALLBACK);
  useEffect(() => {
    if (known) return;
    let alive = true;
    loading ??= api.gateway().then((status) => (known = status.cliCommand ?? FALLBACK));
    loading.then(
      (value) => alive && setCommand(value),
      () => (loading = undefined),
    );
    return () => {
      alive = false;
    };
  }, []);
  return command;
}
