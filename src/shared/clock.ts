/** Time as a port, so backoff, timeouts and token expiry can be tested with a frozen clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
