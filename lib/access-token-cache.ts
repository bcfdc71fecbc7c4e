// The process cache: the hot path answers from memory with no I/O. Notices drop entries, and an
// epoch per user stops a load that started before a notice from caching what it read.

import type { AccessToken } from './types';
import { isFresh } from './record-assessment';

/** A cached token with its issue time, which the expiry margin and refresh-ahead window need. */
export interface CachedToken extends AccessToken {
  lastRotatedAt: number;
}

export class AccessTokenCache {
  private readonly entries = new Map<string, CachedToken>();
  /** Loads in flight per user, and how many notices arrived since they started. */
  private readonly loads = new Map<string, { refs: number; epoch: number }>();

  constructor(private readonly expiryMarginMs: number) {}

  /** A fresh cached token that is not `rejected`, or undefined. */
  get(id: string, now: number, rejected?: string): Readonly<CachedToken> | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.accessToken === rejected || !isFresh(entry, now, this.expiryMarginMs))
      return undefined;
    return entry;
  }

  /** Marks the start of a load; returns the epoch to pass to {@link set}. Pair with {@link endLoad}. */
  beginLoad(id: string): number {
    const load = this.loads.get(id);
    if (load) {
      load.refs += 1;
      return load.epoch;
    }
    this.loads.set(id, { refs: 1, epoch: 0 });
    return 0;
  }

  endLoad(id: string): void {
    const load = this.loads.get(id);
    if (load && --load.refs === 0) this.loads.delete(id);
  }

  /** Caches a token read at `epoch`, unless a notice arrived since. */
  set(id: string, epoch: number, token: CachedToken): void {
    const load = this.loads.get(id);
    if (load && load.epoch !== epoch) return;
    this.entries.set(id, { ...token });
  }

  /** Drops a user's entry and spoils loads in flight (a notice, a disconnect, a rejection). */
  invalidate(id: string): void {
    this.entries.delete(id);
    const load = this.loads.get(id);
    if (load) load.epoch += 1;
  }

  /** Drops every entry whose id starts with `prefix` (a tenant purge). */
  invalidatePrefix(prefix: string): void {
    for (const id of new Set([...this.entries.keys(), ...this.loads.keys()])) {
      if (id.startsWith(prefix)) this.invalidate(id);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
