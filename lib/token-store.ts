// The storage seam: records plus metadata, written only by compare-and-set (invariant 2).

import type { RecordVersion, TokenRecord, TokenState, UserRef } from './types';

/** A record together with the user it belongs to, as the indexes return it. */
export interface StoredRecord {
  user: UserRef;
  record: TokenRecord;
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
   * Resolves once the work a write leaves to finish after it resolves (a Redis store's index
   * upkeep) is done, for every write so far. Optional: a store without such work needs none.
   */
  settled?(): Promise<void>;
  /** Closes what the store opened itself (not a client it was given). */
  close?(): Promise<void>;
}
