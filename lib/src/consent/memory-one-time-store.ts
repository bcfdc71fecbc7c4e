// The one-time store in process memory: right for one process (a single server, or tests).

import { type OneTimeStore, hashId } from './one-time-store';

/** {@link OneTimeStore} in a Map; expired values are dropped as new ones come. */
export class MemoryOneTimeStore implements OneTimeStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  /** @param now the clock, epoch ms. Default `Date.now`. */
  constructor(private readonly now: () => number = Date.now) {}

  async add(id: string, value: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    this.evictExpired(now);
    const key = hashId(id);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return false;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    return true;
  }

  async take(id: string): Promise<string | null> {
    const key = hashId(id);
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry && this.now() < entry.expiresAt ? entry.value : null;
  }

  /** Oldest first (insertion order); stops at the first live entry, so each add costs little. */
  private evictExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
