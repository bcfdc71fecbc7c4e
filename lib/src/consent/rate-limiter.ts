// Per-user rate limits on the consent routes. A fixed window: each key may be hit `limit` times
// per `windowMs`; windows are numbered from the epoch by the injected clock, so every process
// sharing a store (and a clock, to the second) counts into the same window.

/**
 * Where hits are counted. {@link MemoryRateLimitStore} and {@link RedisRateLimitStore} are the two
 * the package has; implement this for another backend (the count must be atomic).
 */
export interface RateLimitStore {
  /**
   * Counts one hit of `key` in the window starting at `windowStart` (epoch ms), which the store
   * may forget after `windowStart + windowMs`.
   * @returns the number of hits of `key` in that window, this one included.
   */
  hit(key: string, windowStart: number, windowMs: number): Promise<number>;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Hits allowed per key and window, at least 1. */
  limit: number;
  /** The window, ms, at least 1 000. */
  windowMs: number;
  store: RateLimitStore;
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** The outcome of one hit. */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts hits per key and says whether each is allowed. */
export class RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly store: RateLimitStore;
  private readonly now: () => number;

  /** @throws TypeError naming a wrong option. */
  constructor(options: RateLimiterOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1)
      throw new TypeError('RateLimiter: limit must be an integer of at least 1');
    if (!Number.isSafeInteger(options.windowMs) || options.windowMs < 1_000)
      throw new TypeError('RateLimiter: windowMs must be an integer of at least 1000');
    if (typeof options.store?.hit !== 'function')
      throw new TypeError('RateLimiter: store must be a RateLimitStore');
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  /** One hit of `key`; refused ones count too, so hammering does not shorten the wait. */
  async hit(key: string): Promise<RateLimitDecision> {
    const now = this.now();
    const windowStart = now - (now % this.windowMs);
    const count = await this.store.hit(key, windowStart, this.windowMs);
    if (count <= this.limit) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((windowStart + this.windowMs - now) / 1000)),
    };
  }
}
