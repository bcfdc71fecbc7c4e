// Upkeep of RedisTokenStore's cross-tenant indexes, which must stay a superset of the records: a
// removal is always followed by a re-read that re-adds what current records need.

import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { StoredRecord } from '../store/token-store';
import { INDEXED_STATES, isIndexedState, stateIndexScore } from '../store/token-store-indexes';
import type { TokenRecord, UserRef } from '../types';
import { parseUserId, userId } from '../store/user-key';
import type { RedisRecordReader } from './redis-record-codec';
import { errorSummary } from './redis-store-errors';
import type { RedisTokenKeys } from './redis-token-keys';
import type { TokenStoreScripts } from './redis-token-store-scripts';

/** How many members one index command or one round of reads carries at most. */
const BATCH_SIZE = 500;

/** Why index upkeep is worth a warning but never an exception: the record write already happened. */
export type Upkeep = 'compareAndSet' | 'delete' | 'deleteTenant' | 'listByState' | 'listIdleSince';

/** `items` in slices of at most {@link BATCH_SIZE}. */
export function* batches<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += BATCH_SIZE) yield items.slice(i, i + BATCH_SIZE);
}

/** Keeps the state and idle indexes in step with the records (see `RedisTokenStore`). */
export class RedisTokenIndexes {
  /** Index upkeep started by writes and not finished yet (see {@link RedisTokenIndexes.settled}). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly scripts: TokenStoreScripts,
    private readonly keys: RedisTokenKeys,
    private readonly reader: RedisRecordReader,
    private readonly logger: Logger,
  ) {}

  /** Before a write into a non-active state: its entry, so a writer that dies leaves an extra one at worst. */
  async addBeforeWrite(user: UserRef, record: TokenRecord): Promise<void> {
    if (isIndexedState(record.state)) {
      await this.redis.zadd(this.keys.stateIndex(record.state), stateIndexScore(record), userId(user));
    }
  }

  /** After a successful write: starts its upkeep (sent now, not waited for) and tracks it. */
  afterWrite(user: UserRef, record: TokenRecord): void {
    this.track(this.upkeep('compareAndSet', () => this.indexWritten(user, record)));
  }

  /** Resolves once the index upkeep of every write made so far has finished (or failed, which is logged). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Runs index upkeep after a completed operation: a failure is logged, never thrown. */
  async upkeep(operation: Upkeep, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn(
        { store: 'RedisTokenStore', operation, err: errorSummary(err) },
        'Token store index upkeep failed; listings may miss or repeat entries until the next write or listing',
      );
    }
  }

  /** Removes users' entries from every index (after deleting their records). */
  async unindex(users: UserRef[]): Promise<void> {
    const keys = [...this.keys.stateIndexes(), this.keys.idleIndex()];
    for (const batch of batches(users)) {
      const members = batch.map(userId);
      const removed = await Promise.all(keys.map((key) => this.redis.zrem(key, ...members)));
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

  /**
   * After a write: the entry of the new state (again), none in the others, the idle score, in one
   * script. Its commands are sent before this returns its promise (nothing is awaited before them).
   */
  private async indexWritten(user: UserRef, record: TokenRecord): Promise<void> {
    const member = userId(user);
    const removed = await this.scripts.indexWritten(
      { states: this.keys.stateIndexes(), idle: this.keys.idleIndex() },
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
    await Promise.all([
      this.redis.zadd(this.keys.idleIndex(), record.lastRotatedAt, member),
      isIndexedState(record.state)
        ? this.redis.zadd(this.keys.stateIndex(record.state), stateIndexScore(record), member)
        : undefined,
    ]);
  }

  /** Keeps a background promise (which never rejects) until it settles. */
  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}
