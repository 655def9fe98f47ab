import type { OAuthError } from '../errors.js';

/**
 * A named check of a request: undefined when it passes, else the OAuthError to answer with. Checks
 * are pure (no store, no clock of their own, no I/O), so each is tested alone, and an endpoint is
 * the list of checks it runs (as oidc-provider composes its actions).
 */
export type CheckResult = OAuthError | undefined;

/** Throws the first failed check, in the order given: that order is the order of the RFC's rules. */
export function must(...results: readonly CheckResult[]): void {
  const failed = results.find((result) => result !== undefined);
  if (failed) throw failed;
}
