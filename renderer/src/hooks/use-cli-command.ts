import { useEffect, useState } from 'react';
import { api } from '../api.js';

const FALLBACK = 'cortex-gateway';
let known: string | undefined;
let loading: Promise<string> | undefined;

/**
 * How the owner types the CLI on the gateway's machine (`cortex-gateway`, a launcher's path, or
 * `node …/dist/cortex-gateway.mjs` in a clone), from /api/session, which answers without a sign-in
 * (the sign-in page prints it). Fetched once and kept for the page's life.
 */
export function useCliCommand(): string {
  const [command, setCommand] = useState(known ?? FALLBACK);
  useEffect(() => {
    if (known) return;
    let alive = true;
    loading ??= api.session().then((session) => (known = session.cliCommand || FALLBACK));
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
