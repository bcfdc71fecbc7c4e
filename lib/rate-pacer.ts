// A rate limit for background work: starts are spaced evenly, so a sweep of thousands of users
// never bursts against the token endpoint, whatever else the cluster is doing.

/** The clock a pacer waits on: monotonic milliseconds and an abortable sleep (injectable in tests). */
export interface PacerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Spaces calls of {@link RatePacer.next} at least `1000 / perSecond` ms apart: the first goes at
 * once, each later one waits for its slot. So any window of one second holds at most
 * `ceil(perSecond)` starts.
 */
export class RatePacer {
  private readonly spacingMs: number;
  private nextAt?: number;

  /** @throws TypeError unless `perSecond` is a positive finite number. */
  constructor(
    perSecond: number,
    private readonly clock: PacerClock,
  ) {
    if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
      throw new TypeError('perSecond must be a positive finite number');
    }
    this.spacingMs = 1000 / perSecond;
  }

  /** Resolves when the next start is allowed; rejects if `signal` aborts while waiting. */
  async next(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(this.nextAt ?? now, now);
    this.nextAt = at + this.spacingMs;
    if (at > now) await this.clock.sleep(at - now, signal);
  }
}
