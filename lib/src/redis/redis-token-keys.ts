// Where RedisTokenStore keeps what: a record hash and a tenant set under the tenant's hash tag, and
// the cross-tenant indexes sharded over INDEX_SHARDS slots of their own, so no single slot (and no
// single Cluster node) is on every tenant's write path.

import type { IndexedState } from '../store/token-store-indexes';
import { INDEXED_STATES } from '../store/token-store-indexes';
import type { UserRef } from '../types';
import { encodeAccountId, tenantTag } from '../store/user-key';

/**
 * How many shards the indexes are split into. Fixed, not an option: every process must agree on it,
 * and changing it needs {@link RedisTokenStore.rebuildIndexes}. 16 spreads the shards over every
 * primary of a usual cluster (3 to 16 primaries) while a listing still reads only 16 keys.
 */
export const INDEX_SHARDS = 16;

/** The index shard of a tenant: FNV-1a of its client key, so every process computes the same. */
export function indexShard(clientKey: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(clientKey, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % INDEX_SHARDS;
}

/** Every shard number, in order. */
export const ALL_SHARDS: readonly number[] = Object.freeze(Array.from({ length: INDEX_SHARDS }, (_, i) => i));

/** The key layout under one prefix (see `RedisTokenStore` for what each key holds). */
export class RedisTokenKeys {
  constructor(private readonly prefix: string) {}

  /** The prefix every record key of the tenant starts with; the purge script completes it. */
  recordPrefix(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:u:`;
  }

  /** The SCAN pattern of every record key (for the index rebuild); the prefix's glob characters escaped. */
  recordPattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}{t:*}:u:*`;
  }

  /** The user id (`<clientKey>.<accountId>`, encoded) of a record key, or null for another key. */
  memberOfRecord(key: string): string | null {
    if (!key.startsWith(this.prefix)) return null;
    const match = /^\{t:([A-Za-z0-9_-]*)\}:u:([A-Za-z0-9_-]+)$/.exec(key.slice(this.prefix.length));
    return match ? `${match[1]}.${match[2]}` : null;
  }

  /** `<prefix>{t:<clientKey>}:u:<accountId>`: the user's record hash. */
  record(user: UserRef): string {
    return this.recordPrefix(user.clientKey) + encodeAccountId(user.accountId);
  }

  /** `<prefix>{t:<clientKey>}:users`: the tenant's encoded account ids. */
  tenant(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:users`;
  }

  /** `<prefix>{idx:<shard>}:state:<state>`: the users of the shard's tenants whose record is in `state`. */
  stateIndex(state: IndexedState, shard: number): string {
    return `${this.prefix}{idx:${shard}}:state:${state}`;
  }

  /** `<prefix>{idx:<shard>}:idle`: every user of the shard's tenants, scored by `lastRotatedAt`. */
  idleIndex(shard: number): string {
    return `${this.prefix}{idx:${shard}}:idle`;
  }

  /** Every state index of one shard, in {@link INDEXED_STATES} order. */
  stateIndexes(shard: number): string[] {
    return INDEXED_STATES.map((state) => this.stateIndex(state, shard));
  }

  /**
   * The unsharded indexes of versions before the sharding (`<prefix>{idx}:state:<state>`,
   * `<prefix>{idx}:idle`): nothing reads them any more; the rebuild deletes them.
   */
  legacyIndexes(): string[] {
    return [
      ...INDEXED_STATES.map((state) => `${this.prefix}{idx}:state:${state}`),
      `${this.prefix}{idx}:idle`,
    ];
  }
}
