// `naive`: the seed algorithm of most vendor code. Read, refresh whenever the token looks
// expired, write. Every request that sees an expired token makes its own refresh.

import type { UserRef } from 'jira-token-rotation';
import type { VendorTokens } from './json-token-store';
import { type VendorRefreshDeps, VendorRefreshError, looksExpired, refreshAndStore } from './vendor-refresh';

export class NaiveTokenSource {
  refreshes = 0;

  constructor(private readonly deps: VendorRefreshDeps) {}

  async getAccessToken(user: UserRef): Promise<VendorTokens> {
    const stored = await this.deps.store.get(user);
    if (!stored) throw new VendorRefreshError(401, 'not_connected');
    if (!looksExpired(stored, this.deps.now())) return stored;
    this.refreshes += 1;
    return refreshAndStore(this.deps, user, stored);
  }
}
