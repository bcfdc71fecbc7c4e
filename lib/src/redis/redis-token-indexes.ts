// Upkeep of RedisTokenStore's cross-tenant indexes, which must stay a superset of the records: a
// removal is always followed by a re-read that re-adds what current records need. The indexes are
// sharded by tenant (see redis-token-keys.ts) and written only AFTER a record's compare-and-set,
// without waiting: an index node that is slow, paused or down never fails or delays a rotation.

import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { StoredRecord } from '../store/token-store';
import { INDEXED_STATES, isIndexedState, stateIndexScore } from '../store/token-store-indexes';
import type { TokenRecord, UserRef } from '../types';
import { parseUserId, userId } from '../store/user-key';
import type { RedisRecordReader } from './redis-record-codec';
import { type Upkeep, UpkeepFailures } from './redis-index-upkeep-failures';
import { type RedisTokenKeys, indexShard } from './redis-token-keys';
import type { TokenStoreScripts } from './redis-token-store-scripts';

/** How many members one index command or one round of reads carries at most. */
const BATCH_SIZE = 500;

/**
 * How many writes whose upkeep failed are kept for a retry. Past that the oldest are forgotten
 * (their entries come back with their next write, or with `rebuildIndexes`).
 */
const MAX_UNINDEXED = 10_000;

/** `items` in slices of at most {@link BATCH_SIZE}. */
export function* batches<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += BATCH_SIZE) yield items.slice(i, i + BATCH_SIZE);
}

/** Keeps the state and idle indexes in step with the records (see `RedisTokenStore`). */
export class RedisTokenIndexes {
  /** Index upkeep started by writes and not finished yet (see {@link RedisTokenIndexes.settled}). */
  private readonly pending = new Set<Promise<void>>();
  /** The last write of each user whose upkeep failed, by user id, to index again. */
  private readonly unindexed = new Map<string, { user: UserRef; record: TokenRecord }>();
  private retrying = false;
  readonly failures: UpkeepFailures;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly scripts: TokenStoreScripts,
    private readonly keys: RedisTokenKeys,
    private readonly reader: RedisRecordReader,
    logger: Logger,
    now: () => number,
  ) {
    this.failures = new UpkeepFailures(logger, now);
  }

  /** How many writes wait for their index upkeep to be retried. */
  get unindexedCount(): number {
    return this.unindexed.size;
  }

  /**
   * After a successful write: starts its upkeep and tracks it. The script is handed to the
   * connection before this returns, so it is sent before the caller's next command (the token
   * request, in a lease): a process that dies after its lease's compare-and-set either sent this
   * upkeep or never made the token request, which leaves nothing in doubt.
   */
  afterWrite(user: UserRef, record: TokenRecord): void {
    const member = userId(user);
    this.track(
      this.indexWritten(user, record).then(
        () => {
          // A later write's failed upkeep stays queued: only this write's own entry is done.
          if (this.unindexed.get(member)?.record === record) this.unindexed.delete(member);
        },
        (err: unknown) => {
          this.remember(member, user, record);
          this.failures.failed('compareAndSet', err);
        },
      ),
    );
  }

  /**
   * Indexes again, in the background, the writes whose upkeep failed (a listing calls this, so the
   * sweepers retry every few seconds). It indexes what each user's record is now, read again, not
   * the write that failed: a later write may have come since. One round at a time; failures stay
   * queued.
   */
  retryFailed(): void {
    if (this.retrying || this.unindexed.size === 0) return;
    this.retrying = true;
    const round = [...this.unindexed.entries()].slice(0, BATCH_SIZE);
    const work = Promise.all(
      round.map(async ([member, queued]) => {
        const current = await this.reader.readMember(member);
        if (current === null) await this.unindex([queued.user]);
        else if (current !== 'unreadable') await this.indexWritten(current.user, current.record);
        if (this.unindexed.get(member) === queued) this.unindexed.delete(member);
      }),
    ).then(
      () => undefined,
      (err: unknown) => this.failures.failed('retry', err),
    );
    this.track(work.finally(() => (this.retrying = false)));
  }

  /** Resolves once the index upkeep of every write made so far has finished (or failed, which is logged). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Runs index upkeep after a completed operation: a failure is counted and logged, never thrown. */
  async upkeep(operation: Upkeep, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.failures.failed(operation, err);
    }
  }

  /** Removes users' entries from every index of their shard (after deleting their records). */
  async unindex(users: UserRef[]): Promise<void> {
    for (const batch of batches(users)) {
      const byShard = new Map<number, string[]>();
      for (const user of batch) {
        const shard = indexShard(user.clientKey);
        byShard.set(shard, [...(byShard.get(shard) ?? []), userId(user)]);
      }
      const removed = await Promise.all(
        [...byShard].flatMap(([shard, members]) =>
          [...this.keys.stateIndexes(shard), this.keys.idleIndex(shard)].map((key) =>
            this.redis.zrem(key, ...members),
          ),
        ),
      );
      if (removed.some((n) => n > 0)) await this.reindex(batch);
    }
  }

  /** Removes entries a listing found stale, then re-adds what the users' current records need. */
  async removeStale(key: string, members: string[]): Promise<void> {
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

  /** Adds the index entries records read just now need (never removes any). */
  async indexRecords(records: StoredRecord[]): Promise<void> {
    for (const batch of batches(records)) await Promise.all(batch.map((read) => this.indexCurrent(read)));
  }

  /**
   * After a write: the entry of the new state (again), none in the others, the idle score, in one
   * script on the tenant's shard. Its commands are sent before this returns its promise (nothing is
   * awaited before them).
   */
  private async indexWritten(user: UserRef, record: TokenRecord): Promise<void> {
    const member = userId(user);
    const shard = indexShard(user.clientKey);
    const removed = await this.scripts.indexWritten(
      { states: this.keys.stateIndexes(shard), idle: this.keys.idleIndex(shard) },
      {
        member,
        own: isIndexedState(record.state) ? INDEXED_STATES.indexOf(record.state) + 1 : 0,
        score: stateIndexScore(record),
        idleScore: record.lastRotatedAt,
      },
    );
    if (removed === 0) return;
    // A removal can have dropped the entry of a write that came after this one (whose upkeep ran
    // first). If the record is still this write's, no later write has committed: the script left
    // exactly the entries this record needs, and a later write re-adds its own entry after its CAS.
    const current = await this.reader.readMember(member);
    if (current === null || current === 'unreadable') return;
    if (current.record.generation === record.generation && current.record.version === record.version) return;
    await this.indexCurrent(current);
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
          const read = await this.reader.readMember(userId(user));
          if (read !== null && read !== 'unreadable') await this.indexCurrent(read);
        }),
      );
    }
  }

  /** Adds the index entries a record read just now needs (never removes any). */
  private async indexCurrent({ user, record }: StoredRecord): Promise<void> {
    const member = userId(user);
    const shard = indexShard(user.clientKey);
    await Promise.all([
      this.redis.zadd(this.keys.idleIndex(shard), record.lastRotatedAt, member),
      isIndexedState(record.state)
        ? this.redis.zadd(this.keys.stateIndex(record.state, shard), stateIndexScore(record), member)
        : undefined,
    ]);
  }

  /** Queues a write for {@link RedisTokenIndexes.retryFailed}, forgetting the oldest past the cap. */
  private remember(member: string, user: UserRef, record: TokenRecord): void {
    const queued = this.unindexed.get(member);
    // A later write of the user may already be queued (upkeeps can finish out of order).
    if (queued && queued.record.version > record.version && queued.record.generation === record.generation)
      return;
    this.unindexed.delete(member);
    this.unindexed.set(member, { user, record });
    if (this.unindexed.size > MAX_UNINDEXED) this.unindexed.delete(this.unindexed.keys().next().value!);
  }

  /** Keeps a background promise (which never rejects) until it settles. */
  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}
