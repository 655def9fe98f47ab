/**
 * Delay before restart number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" so a crowd of backends that died together do not restart in lockstep.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
