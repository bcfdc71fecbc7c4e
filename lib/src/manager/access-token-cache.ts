// The process cache: the hot path answers from memory with no I/O. Notices drop entries, and an
// epoch per user stops a load that started before a notice from caching what it read.

import type { AccessToken } from '../types';
import { isFresh } from '../protocol/record-assessment';

/** A cached token with its issue time, which the expiry margin and refresh-ahead window need. */
export interface CachedToken extends AccessToken {
  lastRotatedAt: number;
}

/**
 * One cache entry. `token` is what callers get, built and frozen once when the entry is stored,
 * so a cache hit hands out the same object instead of copying it on every request.
 */
export interface CacheEntry {
  readonly token: Readonly<AccessToken>;
  readonly expiresAt: number;
  readonly lastRotatedAt: number;
}

/** The frozen caller's view of a token: no `lastRotatedAt`, nothing a caller could change. */
export function publicToken(token: AccessToken): Readonly<AccessToken> {
  return Object.freeze({
    accessToken: token.accessToken,
    expiresAt: token.expiresAt,
    cloudId: token.cloudId,
  });
}

export class AccessTokenCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Loads in flight per user, and how many notices arrived since they started. */
  private readonly loads = new Map<string, { refs: number; epoch: number }>();

  constructor(private readonly expiryMarginMs: number) {}

  /** A fresh cached entry whose token is not `rejected`, or undefined. */
  get(id: string, now: number, rejected?: string): CacheEntry | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.token.accessToken === rejected || !isFresh(entry, now, this.expiryMarginMs))
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

  /**
   * Caches a token read at `epoch`, unless a notice arrived since. Returns the caller's frozen view
   * of it either way.
   */
  set(id: string, epoch: number, token: CachedToken): Readonly<AccessToken> {
    const view = publicToken(token);
    const load = this.loads.get(id);
    if (load && load.epoch !== epoch) return view;
    this.entries.set(
      id,
      Object.freeze({ token: view, expiresAt: token.expiresAt, lastRotatedAt: token.lastRotatedAt }),
    );
    return view;
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
