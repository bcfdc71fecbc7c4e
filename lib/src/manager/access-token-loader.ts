// Steps 1 and 2 of a request: a fresh token from this process's cache with no I/O, or the load
// already running in this process for the same user (in-process single-flight).

import { inRefreshAheadWindow } from '../protocol/record-assessment';
import type { AccessToken, UserRef } from '../types';
import type { AccessTokenCache } from './access-token-cache';
import type { BackgroundRotations } from './background-rotations';
import type { NoticeWaitLoop } from './notice-wait-loop';
import type { TokenManagerDeps } from './token-manager-deps';
import { UserIdMemo } from './user-id-memo';

/** Hands out access tokens from the cache, or from one load per user at a time. */
export class AccessTokenLoader {
  private readonly ids = new UserIdMemo();
  private readonly inflight = new Map<string, Promise<AccessToken>>();

  constructor(
    private readonly deps: Pick<TokenManagerDeps, 'now' | 'stats' | 'settings'>,
    private readonly cache: AccessTokenCache,
    private readonly background: BackgroundRotations,
    private readonly loop: NoticeWaitLoop,
  ) {}

  /** The user's fresh cached token, or undefined. Starts refresh-ahead when it is due. */
  cached(user: UserRef): AccessToken | undefined {
    return this.fromCache(user, this.ids.get(user));
  }

  /** A fresh token: cached, joined from a load running in this process, or loaded. */
  async get(user: UserRef, rejected: string | undefined): Promise<AccessToken> {
    const id = this.ids.get(user);
    const cached = this.fromCache(user, id, rejected);
    if (cached) return cached;
    if (rejected !== undefined) this.cache.invalidate(id);
    // 2. Join the load or refresh already running in this process.
    for (let running = this.inflight.get(id); running; running = this.inflight.get(id)) {
      const result = await running;
      if (result.accessToken !== rejected) return result;
    }
    const load = this.loop.load(user, id, rejected).finally(() => this.inflight.delete(id));
    this.inflight.set(id, load);
    return load;
  }

  /** The loads running now. */
  pending(): Promise<AccessToken>[] {
    return [...this.inflight.values()];
  }

  /** Step 1, the hot path: a fresh cached token with no I/O, and refresh-ahead when it is due. */
  private fromCache(user: UserRef, id: string, rejected?: string): AccessToken | undefined {
    const now = this.deps.now();
    const cached = this.cache.get(id, now, rejected);
    if (!cached) return undefined;
    this.deps.stats.cacheHits += 1;
    if (inRefreshAheadWindow(cached, now, this.deps.settings.refreshAheadMs))
      this.background.start(user, 'refresh_ahead');
    return cached.token;
  }
}
