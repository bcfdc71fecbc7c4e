// The embedded TokenStore: records in this process's memory, for a single process and for tests.

import { silentLogger, type Logger } from '../logger';
import type { StoredPage, StoredRecord, TokenStore } from './token-store';
import { INDEXED_STATES, isIndexedState, stateIndexScore, type IndexedState } from './token-store-indexes';
import {
  assertClientKey,
  assertCompareAndSetArguments,
  assertCursor,
  assertInstant,
  assertLimit,
  assertPageLimit,
} from './token-store-validation';
import type { RecordVersion, TokenRecord, UserRef } from '../types';
import { assertUserRef, parseUserId, userId } from './user-key';

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Where the production warning goes. Default: {@link silentLogger}. */
  logger?: Logger;
}

interface IndexEntry {
  score: number;
  id: string;
}

const compareEntries = (a: IndexEntry, b: IndexEntry): number =>
  a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A set of ids sorted by (score, id), like a Redis sorted set, so both stores list in the same
 * order and neither listing walks every record.
 */
class SortedIndex {
  private readonly entries: IndexEntry[] = [];
  private readonly scores = new Map<string, number>();

  set(id: string, score: number): void {
    this.delete(id);
    const entry = { score, id };
    this.entries.splice(this.position(entry), 0, entry);
    this.scores.set(id, score);
  }

  delete(id: string): void {
    const score = this.scores.get(id);
    if (score === undefined) return;
    this.entries.splice(this.position({ score, id }), 1);
    this.scores.delete(id);
  }

  /** Up to `limit` ids in order, of entries scored below `below`. */
  first(limit: number, below = Infinity): string[] {
    const ids: string[] = [];
    for (const entry of this.entries) {
      if (ids.length >= limit || entry.score >= below) break;
      ids.push(entry.id);
    }
    return ids;
  }

  /** Where `entry` is or would be inserted (binary search). */
  private position(entry: IndexEntry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareEntries(this.entries[mid], entry) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/**
 * A {@link TokenStore} in this process's memory. Every method runs synchronously inside its
 * promise, so each compare-and-set is atomic. Records are deep-copied in and out, so no caller can
 * change a stored record except through {@link MemoryTokenStore.compareAndSet}.
 *
 * It is the embedded default for one process: with several app processes each would rotate on its
 * own and fork the token chain, so it warns when `NODE_ENV` is `production`.
 */
export class MemoryTokenStore implements TokenStore {
  private readonly records = new Map<string, TokenRecord>();
  /** The user ids of each tenant, so a purge touches that tenant only. */
  private readonly tenants = new Map<string, Set<string>>();
  private readonly stateIndexes = new Map<IndexedState, SortedIndex>(
    INDEXED_STATES.map((state) => [state, new SortedIndex()]),
  );
  private readonly idleIndex = new SortedIndex();
  /**
   * Each record's place in creation order, the cursor of the listings: the maps and sets iterate
   * in insertion order, which is this order, since a record keeps its place until it is deleted.
   */
  private readonly sequence = new Map<string, number>();
  private lastSequence = 0;

  constructor(options: MemoryTokenStoreOptions = {}) {
    const logger = options.logger ?? silentLogger;
    if (process.env.NODE_ENV === 'production') {
      logger.warn(
        { event: 'in_process_store', store: 'MemoryTokenStore' },
        'MemoryTokenStore keeps Jira tokens in this process only: with more than one app process, set REDIS_URL ' +
          'to use RedisTokenStore, or token rotations will fork and users will have to reconnect Jira',
      );
    }
  }

  async get(user: UserRef): Promise<TokenRecord | null> {
    assertUserRef(user);
    const record = this.records.get(userId(user));
    return record === undefined ? null : structuredClone(record);
  }

  async compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    assertUserRef(user);
    assertCompareAndSetArguments(expected, record);
    const id = userId(user);
    const current = this.records.get(id);
    if (expected === null ? current !== undefined : !sameVersion(current, expected)) return false;

    this.records.set(id, structuredClone(record));
    if (!this.sequence.has(id)) this.sequence.set(id, ++this.lastSequence);
    let members = this.tenants.get(user.clientKey);
    if (members === undefined) this.tenants.set(user.clientKey, (members = new Set()));
    members.add(id);
    for (const [state, index] of this.stateIndexes) {
      if (state === record.state) index.set(id, stateIndexScore(record));
      else index.delete(id);
    }
    this.idleIndex.set(id, record.lastRotatedAt);
    return true;
  }

  async delete(user: UserRef): Promise<boolean> {
    assertUserRef(user);
    const id = userId(user);
    const existed = this.forget(id);
    const members = this.tenants.get(user.clientKey);
    members?.delete(id);
    if (members?.size === 0) this.tenants.delete(user.clientKey);
    return existed;
  }

  async deleteTenant(clientKey: string): Promise<number> {
    assertClientKey(clientKey);
    const members = this.tenants.get(clientKey);
    if (members === undefined) return 0;
    let count = 0;
    for (const id of members) if (this.forget(id)) count++;
    this.tenants.delete(clientKey);
    return count;
  }

  async listByState(state: IndexedState, limit: number): Promise<StoredRecord[]> {
    if (!isIndexedState(state))
      throw new TypeError('state must be rotating, in_doubt or reauthorization_required');
    assertLimit(limit);
    return this.stored(this.stateIndexes.get(state)!.first(limit));
  }

  async listIdleSince(before: number, limit: number): Promise<StoredRecord[]> {
    assertInstant('before', before);
    assertLimit(limit);
    return this.stored(this.idleIndex.first(limit, before));
  }

  async listTenant(clientKey: string, cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertClientKey(clientKey);
    assertCursor(cursor);
    assertPageLimit(limit);
    return this.page(this.tenants.get(clientKey) ?? [], cursor, limit);
  }

  async listAll(cursor: string | undefined, limit: number): Promise<StoredPage> {
    assertCursor(cursor);
    assertPageLimit(limit);
    return this.page(this.records.keys(), cursor, limit);
  }

  /** Nothing to release: the store holds no connections or timers. */
  async close(): Promise<void> {}

  /** Removes a record and its index entries; returns whether it existed. */
  private forget(id: string): boolean {
    for (const index of this.stateIndexes.values()) index.delete(id);
    this.idleIndex.delete(id);
    this.sequence.delete(id);
    return this.records.delete(id);
  }

  /** Up to `limit` of `ids` (in creation order) created after the cursor's record. */
  private page(ids: Iterable<string>, cursor: string | undefined, limit: number): StoredPage {
    const after = cursor === undefined ? 0 : Number(cursor);
    const page: string[] = [];
    for (const id of ids) {
      const place = this.sequence.get(id)!;
      if (place <= after) continue;
      if (page.length === limit)
        return { records: this.stored(page), cursor: String(this.sequence.get(page.at(-1)!)) };
      page.push(id);
    }
    return { records: this.stored(page) };
  }

  private stored(ids: string[]): StoredRecord[] {
    return ids.map((id) => ({ user: parseUserId(id), record: structuredClone(this.records.get(id)!) }));
  }
}

function sameVersion(current: TokenRecord | undefined, expected: RecordVersion): boolean {
  return (
    current !== undefined &&
    current.generation === expected.generation &&
    current.version === expected.version
  );
}
