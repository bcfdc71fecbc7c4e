// Rate-limit counts in process memory: right for one process (a single server, or tests).

import type { RateLimitStore } from './rate-limiter';

/** {@link RateLimitStore} in a Map; stale windows are dropped as new hits come. */
export class MemoryRateLimitStore implements RateLimitStore {
  // Insertion order is window order: a key moving to a new window is deleted and re-added.
  private readonly counts = new Map<string, { windowStart: number; windowEnd: number; count: number }>();

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    this.evictBefore(windowStart);
    const entry = this.counts.get(key);
    if (entry && entry.windowStart === windowStart) return (entry.count += 1);
    this.counts.delete(key);
    this.counts.set(key, { windowStart, windowEnd: windowStart + windowMs, count: 1 });
    return 1;
  }

  /** Oldest first; stops at the first live window, so each hit costs little. */
  private evictBefore(now: number): void {
    for (const [key, entry] of this.counts) {
      if (entry.windowEnd > now) break;
      this.counts.delete(key);
    }
  }
}
