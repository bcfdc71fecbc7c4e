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
  /** Slots are counted from an origin (not summed), so rounding never lets a window hold one more. */
  private origin = 0;
  private slots = 0;

  /** @throws TypeError unless `perSecond` is a positive finite number. */
  constructor(
    private readonly perSecond: number,
    private readonly clock: PacerClock,
  ) {
    if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
      throw new TypeError('perSecond must be a positive finite number');
    }
  }

  /** Resolves when the next start is allowed; rejects if `signal` aborts while waiting. */
  async next(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const at = this.origin + (this.slots * 1000) / this.perSecond;
    if (this.slots === 0 || at <= now) {
      // The first start, or work slower than the rate: go now, and count from here (no catch-up burst).
      this.origin = now;
      this.slots = 1;
      return;
    }
    this.slots += 1;
    await this.clock.sleep(at - now, signal);
  }
}
