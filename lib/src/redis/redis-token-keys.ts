// Where RedisTokenStore keeps what: a record hash and a tenant set under the tenant's hash tag, and
// the cross-tenant indexes in a slot of their own.

import type { IndexedState } from '../store/token-store-indexes';
import { INDEXED_STATES } from '../store/token-store-indexes';
import type { UserRef } from '../types';
import { encodeAccountId, tenantTag } from '../store/user-key';

/** The key layout under one prefix (see `RedisTokenStore` for what each key holds). */
export class RedisTokenKeys {
  constructor(private readonly prefix: string) {}

  /** The prefix every record key of the tenant starts with; the purge script completes it. */
  recordPrefix(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:u:`;
  }

  /** `<prefix>{t:<clientKey>}:u:<accountId>`: the user's record hash. */
  record(user: UserRef): string {
    return this.recordPrefix(user.clientKey) + encodeAccountId(user.accountId);
  }

  /** `<prefix>{t:<clientKey>}:users`: the tenant's encoded account ids. */
  tenant(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:users`;
  }

  /** `<prefix>{idx}:state:<state>`: the users whose record is in `state`. */
  stateIndex(state: IndexedState): string {
    return `${this.prefix}{idx}:state:${state}`;
  }

  /** `<prefix>{idx}:idle`: every user, scored by `lastRotatedAt`. */
  idleIndex(): string {
    return `${this.prefix}{idx}:idle`;
  }

  /** Every state index, in {@link INDEXED_STATES} order. */
  stateIndexes(): string[] {
    return INDEXED_STATES.map((state) => this.stateIndex(state));
  }
}
