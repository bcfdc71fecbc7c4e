// The timing seam: the two events a histogram needs when they happen, not at scrape time. The
// counters are read from TokenStats at scrape time instead, so the cache-hit path adds nothing.

import type { RefreshOutcome } from '../oauth/refresh-outcome';

/** Told of timed events; the metrics implement it, and the default does nothing. */
export interface TokenObserver {
  /** A request waited this many seconds for another holder's rotation (lock refused, or a live lease). */
  lockWaited(seconds: number): void;
  /** One POST to the token endpoint took this many seconds and ended so. */
  tokenEndpointCalled(seconds: number, outcome: RefreshOutcome['kind']): void;
}

const ignore = (): void => undefined;

/** The default observer: no work at all. */
export const silentObserver: TokenObserver = Object.freeze({
  lockWaited: ignore,
  tokenEndpointCalled: ignore,
});
