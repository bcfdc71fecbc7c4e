// The shared TokenStore: records in Redis or Redis Cluster, written by Lua compare-and-set.

import type { Cluster, Redis } from 'ioredis';
import { JiraTokenError, StoreUnavailableError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { defineTokenStoreScripts, type TokenStoreScripts } from './redis-token-store-scripts';
import type { StoredPage, StoredRecord, TokenStore } from '../store/token-store';
import {
  INDEXED_STATES,
  isIndexedState,
  stateIndexScore,
  type IndexedState,
} from '../store/token-store-indexes';
import {
  MalformedStoredRecordError,
  assertClientKey,
  assertCompareAndSetArguments,
  assertCursor,
  assertInstant,
  assertLimit,
  assertPageLimit,
  parseStoredRecord,
} from '../store/token-store-validation';
import type { RecordVersion, TokenRecord, UserRef } from '../types';
import {
  assertUserRef,
  encodeAccountId,
  encodeClientKey,
  parseUserId,
  tenantTag,
  userId,
} from '../store/user-key';

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
   * Prefix of every key the store writes. Default `'jtr:'`. It must not contain `{` or `}`: Redis
   * Cluster hashes the first `{…}` of a key, which has to be the tenant's tag.
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

/** Defaults of {@link RedisTokenStoreOptions} and fixed settings, in one place. */
export const REDIS_TOKEN_STORE_DEFAULTS = Object.freeze({
  keyPrefix: 'jtr:',
  /** The `Retry-After` of a {@link StoreUnavailableError}. */
  retryAfterSeconds: 5,
  /** How many index entries a listing reads per record asked for, as some may be stale. */
  candidatesPerResult: 4,
  /** How many members one index command or one round of reads carries at most. */
  batchSize: 500,
});

/** Why index upkeep is worth a warning but never an exception: the record write already happened. */
type Upkeep = 'compareAndSet' | 'delete' | 'deleteTenant' | 'listByState' | 'listIdleSince';

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
  private readonly redis: Redis | Cluster;
  private readonly scripts: TokenStoreScripts;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Index upkeep started by writes and not finished yet (see {@link RedisTokenStore.settled}). */
  private readonly pending = new Set<Promise<void>>();

  constructor(options: RedisTokenStoreOptions) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('RedisTokenStore needs { redis }');
    const {
      redis,
      keyPrefix = REDIS_TOKEN_STORE_DEFAULTS.keyPrefix,
      logger = silentLogger,
      now = Date.now,
    } = options;
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
    this.prefix = keyPrefix;
    this.logger = logger;
    this.now = now;
  }

  async get(user: UserRef): Promise<TokenRecord | null> {
    assertUserRef(user);
    return this.boundary(() => this.read(user));
  }

  async compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    assertUserRef(user);
    assertCompareAndSetArguments(expected, record);
    const member = userId(user);
    const written = await this.boundary(async () => {
      // Index before the write (see the class comment): an entry without its state is harmless,
      // a record in doubt that no sweeper can find is a token family lost (invariant 5).
      if (isIndexedState(record.state)) {
        await this.redis.zadd(this.stateIndexKey(record.state), stateIndexScore(record), member);
      }
      return this.scripts.compareAndSet(
        { record: this.recordKey(user), tenant: this.tenantKey(user.clientKey) },
        {
          mode: expected === null ? 'create' : 'update',
          expectedGeneration: expected?.generation ?? '',
          expectedVersion: expected === null ? '' : String(expected.version),
          generation: record.generation,
          version: String(record.version),
          state: record.state,
          json: JSON.stringify(record),
          member: encodeAccountId(user.accountId),
        },
      );
    });
    // The upkeep's script is sent now, before this resolves, but not waited for: the caller's next
    // step (the notice that wakes waiters in other processes) must not queue behind it. On one
    // Redis it shares the connection with the caller's next write and unlock, so it runs first;
    // where it may not (Cluster nodes), the re-read after a removal covers the reordering.
    if (written) this.track(this.upkeep('compareAndSet', () => this.indexWritten(user, record)));
    return written;
  }

  /**
   * Resolves once the index upkeep of every write made so far has finished (or failed, which is
   * logged). {@link RedisTokenStore.compareAndSet} resolves as soon as the record is written and
   * lets its index upkeep finish after; listings are correct either way, because they re-read
   * every record. Awaited by {@link RedisTokenStore.close}.
   */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  async delete(user: UserRef): Promise<boolean> {
    assertUserRef(user);
    const existed = await this.boundary(() =>
      this.scripts.delete(
        { record: this.recordKey(user), tenant: this.tenantKey(user.clientKey) },
        encodeAccountId(user.accountId),
      ),
    );
    await this.upkeep('delete', () => this.unindex([user]));
    return existed;
  }

  async deleteTenant(clientKey: string): Promise<number> {
    assertClientKey(clientKey);
    const { deleted, members } = await this.boundary(() =>
      this.scripts.deleteTenant(this.tenantKey(clientKey), this.recordKeyPrefix(clientKey)),
    );
    // A tenant-set member is an encoded account id; prefixed with the encoded client key it is the
    // user's id (the format `userId` documents).
    const users = members.map((member) => parseUserId(`${encodeClientKey(clientKey)}.${member}`));
    await this.upkeep('deleteTenant', () => this.unindex(users));
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
    return this.boundary(async () => {
      const key = this.stateIndexKey(state);
      const candidates = pairs(
        await this.redis.zrange(
          key,
          0,
          limit * REDIS_TOKEN_STORE_DEFAULTS.candidatesPerResult - 1,
          'WITHSCORES',
        ),
      );
      const reads = await Promise.all(candidates.map(({ member }) => this.readMember(member)));
      const now = this.now();
      const found: StoredRecord[] = [];
      const stale: string[] = [];
      candidates.forEach(({ member, score }, i) => {
        const read = reads[i];
        if (read === 'unreadable') return;
        if (read?.record.state === state) found.push(read);
        else if (read === null || score <= now) stale.push(member);
      });
      if (stale.length > 0) await this.upkeep('listByState', () => this.removeStale(key, stale));
      return found.slice(0, limit);
    });
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
    return this.boundary(async () => {
      const key = this.idleIndexKey();
      const candidates = pairs(
        await this.redis.zrangebyscore(
          key,
          '-inf',
          `(${before}`,
          'WITHSCORES',
          'LIMIT',
          0,
          limit * REDIS_TOKEN_STORE_DEFAULTS.candidatesPerResult,
        ),
      );
      const reads = await Promise.all(candidates.map(({ member }) => this.readMember(member)));
      const found: StoredRecord[] = [];
      const stale: string[] = [];
      const lagging: (string | number)[] = [];
      candidates.forEach(({ member }, i) => {
        const read = reads[i];
        if (read === 'unreadable') return;
        if (read === null) stale.push(member);
        else if (read.record.lastRotatedAt < before) found.push(read);
        else lagging.push(read.record.lastRotatedAt, member);
      });
      if (lagging.length > 0) {
        // XX: only rescore, never re-add an entry that a concurrent delete just removed.
        await this.upkeep('listIdleSince', async () => void (await this.redis.zadd(key, 'XX', ...lagging)));
      }
      if (stale.length > 0) await this.upkeep('listIdleSince', () => this.removeStale(key, stale));
      return found
        .sort(
          (a, b) =>
            a.record.lastRotatedAt - b.record.lastRotatedAt || compareIds(userId(a.user), userId(b.user)),
        )
        .slice(0, limit);
    });
  }

  /**
   * One page of a tenant's records: SSCAN of the tenant set (kept by the write scripts themselves,
   * so it is exact), then a read of each record. Gone and malformed records are skipped.
   */
  async listTenant(clientKey: string, cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertClientKey(clientKey);
    assertCursor(cursor);
    assertPageLimit(limit);
    return this.boundary(async () => {
      const [next, members] = await this.redis.sscan(
        this.tenantKey(clientKey),
        cursor ?? '0',
        'COUNT',
        limit,
      );
      const tenant = encodeClientKey(clientKey);
      return this.page(
        next,
        members.map((member) => `${tenant}.${member}`),
      );
    });
  }

  /**
   * One page of every tenant's records: ZSCAN of the idle index, which holds every record (it is a
   * superset hint like the other indexes: a record whose index upkeep failed is listed again after
   * its next write). Gone and malformed records are skipped.
   */
  async listAll(cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertCursor(cursor);
    assertPageLimit(limit);
    return this.boundary(async () => {
      const [next, flat] = await this.redis.zscan(this.idleIndexKey(), cursor ?? '0', 'COUNT', limit);
      return this.page(
        next,
        pairs(flat).map(({ member }) => member),
      );
    });
  }

  /** Waits for index upkeep still running; the client stays open (closing it is the owner's business). */
  async close(): Promise<void> {
    await this.settled();
  }

  private recordKeyPrefix(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:u:`;
  }

  private recordKey(user: UserRef): string {
    return this.recordKeyPrefix(user.clientKey) + encodeAccountId(user.accountId);
  }

  private tenantKey(clientKey: string): string {
    return `${this.prefix}${tenantTag(clientKey)}:users`;
  }

  private stateIndexKey(state: IndexedState): string {
    return `${this.prefix}{idx}:state:${state}`;
  }

  private idleIndexKey(): string {
    return `${this.prefix}{idx}:idle`;
  }

  /** Reads and checks a record. Not translated: callers run it inside {@link boundary}. */
  private async read(user: UserRef): Promise<TokenRecord | null> {
    const [generation, version, state, json] = await this.redis.hmget(
      this.recordKey(user),
      'generation',
      'version',
      'state',
      'record',
    );
    if (generation === null && version === null && state === null && json === null) return null;
    if (json === null) throw new MalformedStoredRecordError('its hash has no record field');
    const record = parseStoredRecord(json);
    // The script compares the fields, callers trust the JSON: they must say the same.
    if (record.generation !== generation || String(record.version) !== version || record.state !== state) {
      throw new MalformedStoredRecordError('its generation, version or state field disagrees with its JSON');
    }
    return record;
  }

  /**
   * The record behind an index member: `null` when the member is not a user id or the record is
   * gone, `'unreadable'` (logged) when it is malformed, so one corrupt record cannot stop a sweep.
   */
  private async readMember(member: string): Promise<StoredRecord | null | 'unreadable'> {
    let user: UserRef;
    try {
      user = parseUserId(member);
      assertUserRef(user);
    } catch {
      return null;
    }
    try {
      const record = await this.read(user);
      return record === null ? null : { user, record };
    } catch (err) {
      if (!(err instanceof MalformedStoredRecordError)) throw err;
      this.logger.warn(
        { store: 'RedisTokenStore', member, err: summary(err) },
        'Skipping a malformed token record',
      );
      return 'unreadable';
    }
  }

  /** The records behind a SCAN page's user ids; SCAN's final cursor is `'0'`. */
  private async page(next: string, members: string[]): Promise<StoredPage> {
    const records: StoredRecord[] = [];
    for (const batch of batches(members)) {
      const reads = await Promise.all(batch.map((member) => this.readMember(member)));
      for (const read of reads) if (read !== null && read !== 'unreadable') records.push(read);
    }
    return next === '0' ? { records } : { records, cursor: next };
  }

  /**
   * After a write: the entry of the new state (again), none in the others, the idle score, in one
   * script. Its commands are sent before this returns its promise (nothing is awaited before them).
   */
  private async indexWritten(user: UserRef, record: TokenRecord): Promise<void> {
    const member = userId(user);
    const removed = await this.scripts.indexWritten(
      { states: INDEXED_STATES.map((state) => this.stateIndexKey(state)), idle: this.idleIndexKey() },
      {
        member,
        own: isIndexedState(record.state) ? INDEXED_STATES.indexOf(record.state) + 1 : 0,
        score: stateIndexScore(record),
        idleScore: record.lastRotatedAt,
      },
    );
    if (removed === 0) return;
    // A removal can only have dropped the entry of a write that came after this one. If the record
    // is still this write's, no later write has committed: the script left exactly the entries
    // this record needs, and a later write still to come re-adds its own entry after its CAS.
    const current = await this.readMember(member);
    if (current === null || current === 'unreadable') return;
    if (current.record.generation === record.generation && current.record.version === record.version) return;
    await this.indexCurrent(current);
  }

  /** Removes users' entries from every index (after deleting their records). */
  private async unindex(users: UserRef[]): Promise<void> {
    const keys = [...INDEXED_STATES.map((state) => this.stateIndexKey(state)), this.idleIndexKey()];
    for (const batch of batches(users)) {
      const members = batch.map(userId);
      const removed = await Promise.all(keys.map((key) => this.redis.zrem(key, ...members)));
      if (removed.some((n) => n > 0)) await this.reindex(batch);
    }
  }

  private async removeStale(key: string, members: string[]): Promise<void> {
    if ((await this.redis.zrem(key, ...members)) === 0) return;
    const users: UserRef[] = [];
    for (const member of members) {
      try {
        users.push(parseUserId(member));
      } catch {
        // Not a user id: nothing to re-add.
      }
    }
    await this.reindex(users);
  }

  /**
   * Re-adds the index entries the users' current records need. Every removal of index entries is
   * followed by this: a write that raced the removal has either re-added its entry already, or
   * committed its record before this read.
   */
  private async reindex(users: UserRef[]): Promise<void> {
    for (const batch of batches(users)) {
      await Promise.all(
        batch.map(async (user) => {
          const read = await this.readMember(userId(user));
          if (read !== null && read !== 'unreadable') await this.indexCurrent(read);
        }),
      );
    }
  }

  /** Adds the index entries a record read just now needs (never removes any). */
  private async indexCurrent({ user, record }: StoredRecord): Promise<void> {
    const member = userId(user);
    await Promise.all([
      this.redis.zadd(this.idleIndexKey(), record.lastRotatedAt, member),
      isIndexedState(record.state)
        ? this.redis.zadd(this.stateIndexKey(record.state), stateIndexScore(record), member)
        : undefined,
    ]);
  }

  /** Keeps a background promise (which never rejects) until it settles. */
  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Runs index upkeep after a completed operation: a failure is logged, never thrown. */
  private async upkeep(operation: Upkeep, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn(
        { store: 'RedisTokenStore', operation, err: summary(err) },
        'Token store index upkeep failed; listings may miss or repeat entries until the next write or listing',
      );
    }
  }

  /** Runs Redis commands, translating Redis failures into {@link StoreUnavailableError}. */
  private async boundary<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Programmer and record errors pass; anything else Redis or ioredis throws means the store is unavailable. */
function translate(err: unknown): unknown {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof JiraTokenError) return err;
  // ioredis attaches the failed command with its arguments, which include the record's JSON;
  // keep only the command name on the cause, which callers may log.
  const command = (err as { command?: { name?: unknown } } | null)?.command;
  if (command && typeof command === 'object') (err as { command: unknown }).command = { name: command.name };
  const reason = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(
    `The Jira token store (Redis) failed: ${reason}`,
    REDIS_TOKEN_STORE_DEFAULTS.retryAfterSeconds,
    err,
  );
}

/** The ioredis `keyPrefix` a client (or a Cluster's node clients) would add to every key. */
function clientKeyPrefix(redis: Redis | Cluster): string | undefined {
  const options = (redis as { options?: { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } })
    .options;
  return options?.keyPrefix || options?.redisOptions?.keyPrefix || undefined;
}

/** `[member, score, member, score…]` as ZRANGE … WITHSCORES answers, paired. */
function pairs(flat: string[]): { member: string; score: number }[] {
  const result: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push({ member: flat[i], score: Number(flat[i + 1]) });
  return result;
}

function* batches<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += REDIS_TOKEN_STORE_DEFAULTS.batchSize) {
    yield items.slice(i, i + REDIS_TOKEN_STORE_DEFAULTS.batchSize);
  }
}

/** Byte order of ASCII ids, as Redis orders equal scores. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a log line may carry of an error: never the failed command's arguments. */
function summary(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: 'Error', message: String(err) };
}
