// The shared TokenStore: records in Redis or Redis Cluster, written by Lua compare-and-set. This
// class checks arguments and translates errors; keys, the record codec, index upkeep and the
// listings each have a module of their own.

import type { Cluster, Redis } from 'ioredis';
import { silentLogger, type Logger } from '../logger';
import { DEFAULTS } from '../manager/options';
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
import { RedisTokenKeys } from './redis-token-keys';
import { RedisTokenListings } from './redis-token-listings';
import { defineTokenStoreScripts, type TokenStoreScripts } from './redis-token-store-scripts';

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * An ioredis client or Cluster. The store never closes it. Give it a `commandTimeout` (the token
   * manager's clients have one): the store sets no timeouts itself, and without one a hung Redis
   * stalls requests for as long as the connection lives instead of failing them with a 503.
   * Leave ioredis's own `keyPrefix` unset; use this store's `keyPrefix`.
   */
  redis: Redis | Cluster;
  /**
   * Prefix of every key the store writes. Default `DEFAULTS.keyPrefix` (`'jtr:'`). It must not
   * contain `{` or `}`: Redis Cluster hashes the first `{…}` of a key, which has to be the tenant's tag.
   */
  keyPrefix?: string;
  /** Where warnings about index upkeep and unreadable records go. Default: {@link silentLogger}. */
  logger?: Logger;
  /**
   * The clock, in epoch ms. Default `Date.now`. Only used to tell a stale index entry from the entry
   * of a write in progress (see {@link RedisTokenStore.listByState}).
   */
  now?: () => number;
}

/**
 * A {@link TokenStore} in Redis or Redis Cluster.
 *
 * **Keys.** A record is a hash `<prefix>{t:<clientKey>}:u:<accountId>` with the fields `generation`,
 * `version`, `state` and `record` (the JSON of the whole {@link TokenRecord}); the tenant set
 * `<prefix>{t:<clientKey>}:users` holds the encoded account ids. Both carry the tenant's hash tag,
 * so they share a Cluster slot and one Lua script updates them atomically.
 *
 * **Indexes.** Sorted sets `<prefix>{idx}:state:<state>` (scored by lease end, in-doubt deadline
 * or 0) and `<prefix>{idx}:idle` (scored by `lastRotatedAt`), whose members are
 * {@link userId}s. They span tenants, so they live in a slot of their own and are updated by
 * separate commands, never inside a record's Lua script. An index is therefore a superset hint: every
 * listing re-reads each record and returns only what is really there. To keep it a superset:
 * - a write into a non-active state adds the index entry before the compare-and-set, so a process
 *   that dies between the two leaves an extra entry, never a record the sweeper cannot find;
 * - whoever removes index entries (after a write, a delete, or when cleaning stale entries)
 *   re-reads those users' records afterwards and re-adds the entries their current records need,
 *   so a removal racing a concurrent write cannot drop the writer's entry (a writer that finds its
 *   own record still in place has nothing to re-add: no later write has committed yet).
 * Index upkeep after a successful write runs after {@link RedisTokenStore.compareAndSet} resolves
 * (one script on the `{idx}` slot, sent before it resolves; {@link RedisTokenStore.settled} waits
 * for it) and only logs its failures: the write's result stands.
 *
 * **Errors.** Redis and connection failures become {@link StoreUnavailableError} (HTTP 503,
 * `Retry-After`); argument errors are `TypeError`s; a stored record that is not a well-formed
 * record is a {@link MalformedStoredRecordError}.
 */
export class RedisTokenStore implements TokenStore {
  private readonly scripts: TokenStoreScripts;
  private readonly keys: RedisTokenKeys;
  private readonly reader: RedisRecordReader;
  private readonly indexes: RedisTokenIndexes;
  private readonly listings: RedisTokenListings;
  private readonly redis: Redis | Cluster;

  constructor(options: RedisTokenStoreOptions) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('RedisTokenStore needs { redis }');
    const { redis, keyPrefix = DEFAULTS.keyPrefix, logger = silentLogger, now = Date.now } = options;
    if (typeof (redis as Partial<Redis> | undefined)?.defineCommand !== 'function') {
      throw new TypeError('RedisTokenStore option redis must be an ioredis client or Cluster');
    }
    if (clientKeyPrefix(redis)) {
      throw new TypeError(
        "RedisTokenStore: unset the ioredis client's keyPrefix option and pass keyPrefix to RedisTokenStore " +
          'instead (the tenant purge script builds record keys that ioredis cannot prefix)',
      );
    }
    if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
      throw new TypeError('RedisTokenStore option keyPrefix must be a string without { or }');
    }
    if (typeof now !== 'function') throw new TypeError('RedisTokenStore option now must be a function');
    this.redis = redis;
    this.scripts = defineTokenStoreScripts(redis);
    this.keys = new RedisTokenKeys(keyPrefix);
    this.reader = new RedisRecordReader(redis, this.keys, logger);
    this.indexes = new RedisTokenIndexes(redis, this.scripts, this.keys, this.reader, logger);
    this.listings = new RedisTokenListings(redis, this.keys, this.reader, this.indexes, now);
  }

  async get(user: UserRef): Promise<TokenRecord | null> {
    assertUserRef(user);
    return storeBoundary(() => this.reader.read(user));
  }

  async compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    assertUserRef(user);
    assertCompareAndSetArguments(expected, record);
    const written = await storeBoundary(async () => {
      // Index before the write (see the class comment): an entry without its state is harmless,
      // a record in doubt that no sweeper can find is a token family lost (invariant 5).
      await this.indexes.addBeforeWrite(user, record);
      return this.scripts.compareAndSet(
        { record: this.keys.record(user), tenant: this.keys.tenant(user.clientKey) },
        compareAndSetArguments(user, expected, record),
      );
    });
    // The upkeep's script is sent now, before this resolves, but not waited for: the caller's next
    // step (the notice that wakes waiters in other processes) must not queue behind it. On one
    // Redis it shares the connection with the caller's next write and unlock, so it runs first;
    // where it may not (Cluster nodes), the re-read after a removal covers the reordering.
    if (written) this.indexes.afterWrite(user, record);
    return written;
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
   * really in `state`. It removes the stale entries it meets: members whose record is gone at once,
   * members whose record is in another state once the entry's score has passed. A write in progress
   * has added its entry (with its new lease end or deadline, still ahead) but not yet written the
   * record, and removing that entry could lose the record if the writer then died. So a listing can
   * return fewer than `limit` records while more exist; the next listing finds them.
   */
  async listByState(state: IndexedState, limit: number): Promise<StoredRecord[]> {
    if (!isIndexedState(state))
      throw new TypeError('state must be rotating, in_doubt or reauthorization_required');
    assertLimit(limit);
    if (limit === 0) return [];
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
   * One page of every tenant's records: ZSCAN of the idle index, which holds every record (it is a
   * superset hint like the other indexes: a record whose index upkeep failed is listed again after
   * its next write). Gone and malformed records are skipped.
   */
  async listAll(cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertCursor(cursor);
    assertPageLimit(limit);
    return storeBoundary(() => this.listings.allPage(cursor, limit));
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

/** The ioredis `keyPrefix` a client (or a Cluster's node clients) would add to every key. */
function clientKeyPrefix(redis: Redis | Cluster): string | undefined {
  const options = (redis as { options?: { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } })
    .options;
  return options?.keyPrefix || options?.redisOptions?.keyPrefix || undefined;
}
