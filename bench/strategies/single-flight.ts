// `single-flight`: naive plus one refresh promise per user in this process, which is what
// google-auth-library or axios-auth-refresh give. Nothing stops another process refreshing too.

import type { UserRef } from 'jira-token-rotation';
import type { VendorTokens } from './json-token-store';
import { type VendorRefreshDeps, VendorRefreshError, looksExpired, refreshAndStore } from './vendor-refresh';

export class SingleFlightTokenSource {
  refreshes = 0;
  private readonly refreshing = new Map<string, Promise<VendorTokens>>();

  constructor(private readonly deps: VendorRefreshDeps) {}

  async getAccessToken(user: UserRef): Promise<VendorTokens> {
    const stored = await this.deps.store.get(user);
    if (!stored) throw new VendorRefreshError(401, 'not_connected');
    if (!looksExpired(stored, this.deps.now())) return stored;
    const id = JSON.stringify([user.clientKey, user.accountId]);
    let running = this.refreshing.get(id);
    if (!running) {
      this.refreshes += 1;
      running = refreshAndStore(this.deps, user, stored).finally(() => this.refreshing.delete(id));
      this.refreshing.set(id, running);
    }
    return running;
  }
}
