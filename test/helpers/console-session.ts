import { CONSOLE_SESSION_HEADER, type ConsoleSignIn } from '../../src/api/contract.js';

/** A console session as the console page holds it: the secret, and the origin it belongs to. */
export interface ConsoleSession {
  origin: string;
  secret: string;
  /** The headers the console page sends: the session, and (for changes) its exact Origin. */
  headers(extra?: Record<string, string>): Record<string, string>;
}

/** Spends a sign-in link's token as the console page does (POST /api/session, from its own origin). */
export function redeemLink(link: string, headers: Record<string, string> = {}): Promise<Response> {
  const url = new URL(link);
  return fetch(new URL('/api/session', url.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url.origin, ...headers },
    body: JSON.stringify({ token: url.searchParams.get('token') }),
  });
}

/** Signs in to the console with a one-time link; fails the test if the gateway refuses. */
export async function consoleSignIn(link: string): Promise<ConsoleSession> {
  const res = await redeemLink(link);
  const body = (await res.json()) as { ok: boolean; value: ConsoleSignIn };
  if (res.status !== 200 || !body.ok) throw new Error(`sign-in refused: HTTP ${res.status} ${JSON.stringify(body)}`);
  const { origin } = new URL(link);
  const secret = body.value.secret;
  return {
    origin,
    secret,
    headers: (extra = {}) => ({ [CONSOLE_SESSION_HEADER]: secret, origin, ...extra }),
  };
}
