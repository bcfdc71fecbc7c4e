// The storage seam: records plus metadata, written only by compare-and-set (invariant 2).

import type { RecordVersion, TokenRecord, TokenState, UserRef } from '../types';

/** A record together with the user it belongs to, as the indexes return it. */
export interface StoredRecord {
  user: UserRef;
  record: TokenRecord;
}

/** One page of a cursor listing ({@link TokenStore.listTenant}, {@link TokenStore.listAll}). */
export interface StoredPage {
  records: StoredRecord[];
  /** Pass it back to get the next page; `undefined` once the listing is complete. */
  cursor?: string;
}

/**
 * Where token records live. Implementations: `MemoryTokenStore` (one process) and
 * `RedisTokenStore` (any number of processes, Redis or Redis Cluster).
 *
 * Every write is a compare-and-set on (generation, version), so a late writer, a disconnect or a
 * purge can never resurrect or overwrite newer tokens.
 */
export interface TokenStore {
  /** The user's record, or `null` when there is none. */
  get(user: UserRef): Promise<TokenRecord | null>;
  /**
   * Writes `record` if the stored record still has `expected`'s generation and version; with
   * `expected === null`, only if there is no record. Returns whether it wrote. A CAS against a
   * deleted record fails.
   */
  compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean>;
  /** Deletes the user's record. Returns whether there was one. */
  delete(user: UserRef): Promise<boolean>;
  /** Deletes every record of a tenant, and nothing of any other tenant. Returns how many. */
  deleteTenant(clientKey: string): Promise<number>;
  /** Up to `limit` records currently in `state` (an index, not a scan of every key). */
  listByState(state: Exclude<TokenState, 'active'>, limit: number): Promise<StoredRecord[]>;
  /** Up to `limit` records whose `lastRotatedAt` is before `before` (epoch ms), oldest first. */
  listIdleSince(before: number, limit: number): Promise<StoredRecord[]>;
  /**
   * One page of a tenant's records, in no particular order (the tenant's own set, not a scan of
   * every key). Start without a cursor and pass back each page's cursor until it is `undefined`.
   * `limit` is a hint, as Redis's SCAN COUNT: a page may hold more or fewer records, even none
   * before the end. A record stored for the whole listing is returned at least once (duplicates are
   * possible); one written or deleted meanwhile may or may not be. Optional for custom stores: the
   * admin page needs it.
   */
  listTenant?(clientKey: string, cursor: string | undefined, limit: number): Promise<StoredPage>;
  /**
   * The same over every tenant, from the idle index (which holds every record). Optional for custom
   * stores: personal data reporting needs it.
   */
  listAll?(cursor: string | undefined, limit: number): Promise<StoredPage>;
  /**
   * Resolves once the work a write leaves to finish after it resolves (a Redis store's index
   * upkeep) is done, for every write so far. Optional: a store without such work needs none.
   */
  settled?(): Promise<void>;
  /**
   * The store's own clock, epoch ms, shared by every process that uses the store (Redis `TIME`).
   * Each process measures its offset to it, so deadlines one process writes and another judges
   * come from one clock (DESIGN.md invariant 14). Optional: without it the offset is 0.
   */
  time?(): Promise<number>;
  /**
   * Resolves once the store's replicas hold every write this process made to the user's record,
   * as far as the store waits for replication (`RedisTokenStore`: Redis `WAIT`); throws
   * `NotDurableError` when they do not acknowledge in time. A store that waits for replication
   * also waits in {@link TokenStore.compareAndSet} and throws `NotDurableError` from a write that
   * landed unacknowledged (DESIGN.md invariant 15). Optional: a store without replicas needs none.
   */
  waitForReplicas?(user: UserRef): Promise<void>;
  /** Closes what the store opened itself (not a client it was given). */
  close?(): Promise<void>;
}
