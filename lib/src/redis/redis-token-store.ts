// The shared TokenStore: records in Redis or Redis Cluster, written by Lua compare-and-set. This
// class checks arguments and translates errors; keys, the record codec, index upkeep and the
// listings each have a module of their own.

import type { Cluster, Redis } from 'ioredis';
import type { StoredPage, StoredRecord, TokenStore } from '../store/token-store';
import { isIndexedState, type IndexedState } from '../store/token-store-indexes';
import {
  assertClientKey,
  assertCompareAndSetArguments,
  assertCursor,
  assertInstant,
  assertLimit,
  assertPageLimit,
} from '../store/token-store-validation';
import type { RecordVersion, TokenRecord, UserRef } from '../types';
import { assertUserRef, encodeAccountId, encodeClientKey, parseUserId } from '../store/user-key';
import { RedisRecordReader, compareAndSetArguments } from './redis-record-codec';
import { storeBoundary } from './redis-store-errors';
import { RedisTokenIndexes } from './redis-token-indexes';
import { type IndexRebuild, LegacyIndexMigration, rebuildIndexes } from './redis-index-rebuild';
import { RedisTokenKeys } from './redis-token-keys';
import { RedisTokenListings } from './redis-token-listings';
import { ReplicaAcks } from './replica-acks';
import { type RedisTokenStoreOptions, resolveRedisTokenStoreOptions } from './redis-token-store-options';
import { defineTokenStoreScripts, type TokenStoreScripts } from './redis-token-store-scripts';

/**
 * A {@link TokenStore} in Redis or Redis Cluster.
 *
 * **Keys.** A record is a hash `<prefix>{t:<clientKey>}:u:<accountId>` with the fields `generation`,
 * `version`, `state` and `record` (the JSON of the whole {@link TokenRecord}); the tenant set
 * `<prefix>{t:<clientKey>}:users` holds the encoded account ids. Both carry the tenant's hash tag,
 * so they share a Cluster slot and one Lua script updates them atomically.
 *
 * **Indexes.** Sorted sets `<prefix>{idx:<shard>}:state:<state>` (scored by lease end, in-doubt
 * deadline or 0) and `<prefix>{idx:<shard>}:idle` (scored by `lastRotatedAt`), whose members are
 * {@link userId}s. A tenant's users are indexed in one of 16 shards (`INDEX_SHARDS`) (a hash of
 * its client key), each shard with a hash tag, hence a Cluster slot, of its own: no one slot is on
 * every tenant's write path, and the listings read every shard. An index spans tenants, so it is
 * never in a record's slot and never written by a record's Lua script: it is a superset hint, and
 * every listing re-reads each record and returns only what is really there. Its rules:
 * - nothing is written to an index before a record's compare-and-set. The upkeep (one script on
 *   the tenant's shard) is sent as soon as the compare-and-set answers, before the caller's next
 *   command, and is not waited for: a process that dies before sending it never made the token
 *   request that the lease was for, so nothing is in doubt. An upkeep that fails is counted, logged
 *   at most once a minute ({@link RedisTokenStore.indexHealth}), and retried by the next listings;
 *   it never fails the write;
 * - whoever removes index entries (after a write, a delete, or when cleaning stale entries)
 *   re-reads those users' records afterwards and re-adds the entries their current records need,
 *   so a removal racing a concurrent write cannot drop the writer's entry (a writer that finds its
 *   own record still in place has nothing to re-add: no later write has committed yet);
 * - a listing that meets a record in another non-active state than the index it was listed from
 *   adds the entry that state needs, so a lost upkeep is repaired by the next sweep.
 * {@link RedisTokenStore.settled} waits for the upkeep. {@link RedisTokenStore.rebuildIndexes}
 * rebuilds the indexes from the records (and deletes the unsharded `<prefix>{idx}:…` keys of
 * versions before the sharding).
 *
 * **Errors.** Redis and connection failures become {@link StoreUnavailableError} (HTTP 503,
 * `Retry-After`); argument errors are `TypeError`s; a stored record that is not a well-formed
 * record is a {@link MalformedStoredRecordError}.
 */
export class RedisTokenStore implements TokenStore {
  private readonly redis: Redis | Cluster;
  private readonly scripts: TokenStoreScripts;
  private readonly keys: RedisTokenKeys;
  private readonly reader: RedisRecordReader;
  private readonly indexes: RedisTokenIndexes;
  private readonly listings: RedisTokenListings;
  private readonly migration: LegacyIndexMigration;
  private readonly acks: ReplicaAcks;

  constructor(options: RedisTokenStoreOptions) {
    const { redis, keyPrefix, logger, now, replicasToAck, replicaAckTimeoutMs } =
      resolveRedisTokenStoreOptions(options);
    this.redis = redis;
    this.scripts = defineTokenStoreScripts(redis);
    this.keys = new RedisTokenKeys(keyPrefix);
    this.acks = new ReplicaAcks(redis, replicasToAck, replicaAckTimeoutMs);
    this.reader = new RedisRecordReader(redis, this.keys, logger);
    this.indexes = new RedisTokenIndexes(redis, this.scripts, this.keys, this.reader, logger, now);
    this.listings = new RedisTokenListings(redis, this.keys, this.reader, this.indexes, now);
    this.migration = new LegacyIndexMigration(
      redis,
      this.keys,
      () => this.rebuildIndexes(),
      this.indexes,
      logger,
    );
  }

  async get(user: UserRef): Promise<TokenRecord | null> {
    assertUserRef(user);
    return storeBoundary(() => this.reader.read(user));
  }

  async compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    assertUserRef(user);
    assertCompareAndSetArguments(expected, record);
    // Only the record's own slot is on this path: no index is written before the compare-and-set
    // (see the class comment), so an index node that is paused or down cannot fail a rotation.
    const written = await storeBoundary(() =>
      this.scripts.compareAndSet(
        { record: this.keys.record(user), tenant: this.keys.tenant(user.clientKey) },
        compareAndSetArguments(user, expected, record),
      ),
    );
    // The upkeep's script is sent now, before this resolves, but not waited for: the caller's next
    // step (the token request, or the notice that wakes waiters in other processes) must not queue
    // behind it. On one Redis it shares the connection with the caller's next write and unlock, so
    // it runs first; where it may not (Cluster nodes), the re-read after a removal covers the
    // reordering.
    if (!written) return false;
    this.indexes.afterWrite(user, record);
    // Invariant 15: only a write the replicas hold survives a failover.
    await this.waitForReplicas(user);
    return true;
  }

  /**
   * Resolves once the replicas asked for hold every record write this store made on the user's
   * node (Redis `WAIT` on that connection); throws `NotDurableError` when they do not
   * acknowledge in time. A no-op when no replica is asked for.
   */
  async waitForReplicas(user: UserRef): Promise<void> {
    assertUserRef(user);
    await storeBoundary(() => this.acks.confirm(this.keys.record(user)));
  }

  /**
   * Resolves once the index upkeep of every write made so far has finished (or failed, which is
   * logged). {@link RedisTokenStore.compareAndSet} resolves as soon as the record is written and
   * lets its index upkeep finish after; listings are correct either way, because they re-read
   * every record. Awaited by {@link RedisTokenStore.close}.
   */
  async settled(): Promise<void> {
    await this.indexes.settled();
  }

  async delete(user: UserRef): Promise<boolean> {
    assertUserRef(user);
    const existed = await storeBoundary(() =>
      this.scripts.delete(
        { record: this.keys.record(user), tenant: this.keys.tenant(user.clientKey) },
        encodeAccountId(user.accountId),
      ),
    );
    await this.indexes.upkeep('delete', () => this.indexes.unindex([user]));
    return existed;
  }

  async deleteTenant(clientKey: string): Promise<number> {
    assertClientKey(clientKey);
    const { deleted, members } = await storeBoundary(() =>
      this.scripts.deleteTenant(this.keys.tenant(clientKey), this.keys.recordPrefix(clientKey)),
    );
    // A tenant-set member is an encoded account id; prefixed with the encoded client key it is the
    // user's id (the format `userId` documents).
    const users = members.map((member) => parseUserId(`${encodeClientKey(clientKey)}.${member}`));
    await this.indexes.upkeep('deleteTenant', () => this.indexes.unindex(users));
    return deleted;
  }

  /**
   * Up to `limit` records in `state`, in index order: soonest lease end or in-doubt deadline first.
   *
   * Reads a few candidates per record asked for, re-reads each record, and returns only those
   * really in `state`, reading every shard and merging them. It removes the stale entries it meets:
   * members whose record is gone at once, members whose record is in another state once the entry's
   * score has passed (until then they are left alone: the upkeeps of one user's writes can arrive
   * out of order on a Cluster, and the re-read after each removal, not this delay, is what keeps a
   * needed entry). A record it finds in another non-active state gets that state's entry, which
   * repairs an upkeep that failed or never ran. A shard that cannot be read is skipped, counted and
   * logged; only when none can be read does the listing fail. A listing can return fewer than
   * `limit` records while more exist; the next listing finds them.
   */
  async listByState(state: IndexedState, limit: number): Promise<StoredRecord[]> {
    if (!isIndexedState(state))
      throw new TypeError('state must be rotating, in_doubt or reauthorization_required');
    assertLimit(limit);
    if (limit === 0) return [];
    await this.migration.ensure();
    return storeBoundary(() => this.listings.byState(state, limit));
  }

  /**
   * Up to `limit` records whose `lastRotatedAt` is before `before`, oldest first. Like
   * {@link RedisTokenStore.listByState} it reads a few candidates per record asked for and returns
   * what the records say; it removes entries of records that are gone and raises scores that lag
   * behind their record (a delayed write's entry), so it may return fewer than `limit`.
   */
  async listIdleSince(before: number, limit: number): Promise<StoredRecord[]> {
    assertInstant('before', before);
    assertLimit(limit);
    if (limit === 0) return [];
    await this.migration.ensure();
    return storeBoundary(() => this.listings.idleSince(before, limit));
  }

  /**
   * One page of a tenant's records: SSCAN of the tenant set (kept by the write scripts themselves,
   * so it is exact), then a read of each record. Gone and malformed records are skipped.
   */
  async listTenant(clientKey: string, cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertClientKey(clientKey);
    assertCursor(cursor);
    assertPageLimit(limit);
    return storeBoundary(() => this.listings.tenantPage(clientKey, cursor, limit));
  }

  /**
   * One page of every tenant's records: ZSCAN of each shard's idle index in turn, which together
   * hold every record (a superset hint like the other indexes: a record whose index upkeep failed
   * is listed again once the upkeep is retried or after its next write). Gone and malformed records
   * are skipped. A page can be empty and still have a cursor (an empty shard).
   */
  async listAll(cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertCursor(cursor);
    assertPageLimit(limit);
    await this.migration.ensure();
    return storeBoundary(() => this.listings.allPage(cursor, limit));
  }

  /**
   * Rebuilds the indexes from the records: a SCAN of every record key (on every primary of a
   * Cluster) re-adds each record's entries in its shard, then the unsharded `<prefix>{idx}:…` keys
   * of versions before the sharding are deleted. The store runs it by itself at its first listing
   * when those keys are still there (the upgrade from such a version); call it after losing an
   * index node's data.
   * Idempotent, safe while the store is in use; it reads every record, so it costs one `HMGET` per
   * record.
   */
  async rebuildIndexes(): Promise<IndexRebuild> {
    return storeBoundary(() => rebuildIndexes(this.redis, this.keys, this.reader, this.indexes));
  }

  /**
   * How index upkeep fares: `failures` counts every failed upkeep or unreadable shard since the
   * store was made; `unindexed` is how many writes wait for their upkeep to be retried.
   */
  indexHealth(): { failures: number; unindexed: number } {
    return { failures: this.indexes.failures.count, unindexed: this.indexes.unindexedCount };
  }

  /** Redis `TIME` in epoch ms: the clock every process sharing this Redis measures its offset to. */
  async time(): Promise<number> {
    const [seconds, microseconds] = await storeBoundary(() => this.redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
  }

  /** Waits for index upkeep still running; the client stays open (closing it is the owner's business). */
  async close(): Promise<void> {
    await this.settled();
  }
}
