// The hot path's user ids, remembered: computing one costs two base64url encodings, and a cache
// hit would otherwise pay them on every request.

import type { UserRef } from '../types';
import { userId } from '../store/user-key';

/** How many ids a memo keeps before it starts over (a few hundred bytes each). */
export const USER_ID_MEMO_MAX_ENTRIES = 10_000;

/**
 * {@link userId}, memoized per clientKey and accountId. Two nested maps rather than one map keyed
 * by a concatenation, so a lookup allocates nothing. Bounded: past `maxEntries` it forgets every
 * id and starts over, which costs the next requests one encoding each.
 */
export class UserIdMemo {
  private readonly tenants = new Map<string, Map<string, string>>();
  private size = 0;

  constructor(private readonly maxEntries = USER_ID_MEMO_MAX_ENTRIES) {}

  /** The user's id; `user` must already be checked (`assertUserRef`). */
  get(user: UserRef): string {
    let accounts = this.tenants.get(user.clientKey);
    const known = accounts?.get(user.accountId);
    if (known !== undefined) return known;
    const id = userId(user);
    if (this.size >= this.maxEntries) {
      this.tenants.clear();
      this.size = 0;
      accounts = undefined;
    }
    if (!accounts) this.tenants.set(user.clientKey, (accounts = new Map()));
    accounts.set(user.accountId, id);
    this.size += 1;
    return id;
  }
}
