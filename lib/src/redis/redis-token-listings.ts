// RedisTokenStore's listings: records by state and by idleness from the indexes (re-read, so a
// stale entry is never returned), and pages of a tenant's or every record by SCAN. The indexes are
// sharded, so the index listings read every shard and merge; a shard whose node fails is skipped
// (and logged), so one lost node never stops the sweepers for the tenants of the others.

import type { Cluster, Redis } from 'ioredis';
import type { StoredPage, StoredRecord } from '../store/token-store';
import { type IndexedState, isIndexedState } from '../store/token-store-indexes';
import { encodeClientKey, userId } from '../store/user-key';
import type { RedisRecordReader } from './redis-record-codec';
import type { Upkeep } from './redis-index-upkeep-failures';
import { type RedisTokenIndexes, batches } from './redis-token-indexes';
import { ALL_SHARDS, INDEX_SHARDS, type RedisTokenKeys } from './redis-token-keys';

/** How many index entries a listing reads per record asked for, as some may be stale. */
const CANDIDATES_PER_RESULT = 4;

/** The width of the shard number at the start of a `listAll` cursor. */
const SHARD_DIGITS = String(INDEX_SHARDS - 1).length;

/** One index entry, with the shard key it was read from. */
interface Entry {
  key: string;
  member: string;
  score: number;
}

/**
 * The listings, without argument checks or error translation (`RedisTokenStore` does both);
 * see `RedisTokenStore` for what each returns.
 */
export class RedisTokenListings {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisTokenKeys,
    private readonly reader: RedisRecordReader,
    private readonly indexes: RedisTokenIndexes,
    private readonly now: () => number,
  ) {}

  /** Up to `limit` records in `state`, soonest lease end or in-doubt deadline first; cleans stale entries. */
  async byState(state: IndexedState, limit: number): Promise<StoredRecord[]> {
    this.indexes.retryFailed();
    const wanted = limit * CANDIDATES_PER_RESULT;
    const candidates = await this.everyShard('listByState', limit, async (shard) => {
      const key = this.keys.stateIndex(state, shard);
      return entries(key, await this.redis.zrange(key, 0, wanted - 1, 'WITHSCORES'));
    });
    const reads = await Promise.all(candidates.map(({ member }) => this.reader.readMember(member)));
    const now = this.now();
    const found: StoredRecord[] = [];
    const misplaced: StoredRecord[] = [];
    const stale: Entry[] = [];
    candidates.forEach((entry, i) => {
      const read = reads[i];
      if (read === 'unreadable') return;
      if (read?.record.state === state) return void found.push(read);
      // In another indexed state: that index may lack it (its upkeep failed, or its writer died
      // between the compare-and-set and the upkeep), so make sure it is there now.
      if (read && isIndexedState(read.record.state)) misplaced.push(read);
      if (read === null || entry.score <= now) stale.push(entry);
    });
    if (misplaced.length > 0)
      await this.indexes.upkeep('listByState', () => this.indexes.indexRecords(misplaced));
    await this.removeStale('listByState', stale);
    return found.slice(0, limit);
  }

  /** Up to `limit` records rotated before `before`, oldest first; cleans gone and lagging entries. */
  async idleSince(before: number, limit: number): Promise<StoredRecord[]> {
    this.indexes.retryFailed();
    const wanted = limit * CANDIDATES_PER_RESULT;
    const candidates = await this.everyShard('listIdleSince', limit, async (shard) => {
      const key = this.keys.idleIndex(shard);
      const flat = await this.redis.zrangebyscore(
        key,
        '-inf',
        `(${before}`,
        'WITHSCORES',
        'LIMIT',
        0,
        wanted,
      );
      return entries(key, flat);
    });
    const reads = await Promise.all(candidates.map(({ member }) => this.reader.readMember(member)));
    const found: StoredRecord[] = [];
    const stale: Entry[] = [];
    const lagging = new Map<string, (string | number)[]>();
    candidates.forEach((entry, i) => {
      const read = reads[i];
      if (read === 'unreadable') return;
      if (read === null) stale.push(entry);
      else if (read.record.lastRotatedAt < before) found.push(read);
      else
        lagging.set(entry.key, [...(lagging.get(entry.key) ?? []), read.record.lastRotatedAt, entry.member]);
    });
    for (const [key, scored] of lagging) {
      // XX: only rescore, never re-add an entry that a concurrent delete just removed.
      await this.indexes.upkeep(
        'listIdleSince',
        async () => void (await this.redis.zadd(key, 'XX', ...scored)),
      );
    }
    await this.removeStale('listIdleSince', stale);
    return found
      .sort(
        (a, b) =>
          a.record.lastRotatedAt - b.record.lastRotatedAt || compareIds(userId(a.user), userId(b.user)),
      )
      .slice(0, limit);
  }

  /** One page of a tenant's records, by SSCAN of the tenant set. */
  async tenantPage(clientKey: string, cursor: string | undefined, limit: number): Promise<StoredPage> {
    const [next, members] = await this.redis.sscan(
      this.keys.tenant(clientKey),
      cursor ?? '0',
      'COUNT',
      limit,
    );
    const tenant = encodeClientKey(clientKey);
    return this.page(
      next === '0' ? undefined : next,
      members.map((member) => `${tenant}.${member}`),
    );
  }

  /**
   * One page of every tenant's records, by ZSCAN of one shard's idle index after the other. The
   * cursor is the shard number ({@link SHARD_DIGITS} digits) followed by that shard's ZSCAN cursor.
   * Unlike the sweepers' listings it fails when a shard cannot be read: a personal data report
   * must not skip records silently.
   */
  async allPage(cursor: string | undefined, limit: number): Promise<StoredPage> {
    let shard = cursor === undefined ? 0 : Number(cursor.slice(0, SHARD_DIGITS));
    let shardCursor = cursor === undefined ? '0' : cursor.slice(SHARD_DIGITS) || '0';
    if (shard >= INDEX_SHARDS) return { records: [] };
    const [next, flat] = await this.redis.zscan(this.keys.idleIndex(shard), shardCursor, 'COUNT', limit);
    if (next === '0') [shard, shardCursor] = [shard + 1, '0'];
    else shardCursor = next;
    const more = shard < INDEX_SHARDS ? String(shard).padStart(SHARD_DIGITS, '0') + shardCursor : undefined;
    return this.page(
      more,
      entries('', flat).map(({ member }) => member),
    );
  }

  /**
   * `read` on every shard, merged by score (then member, as Redis orders ties), the first
   * `limit × CANDIDATES_PER_RESULT`. Shards that fail are counted and logged and the others used;
   * only when every shard fails does the listing fail.
   */
  private async everyShard(
    operation: Upkeep,
    limit: number,
    read: (shard: number) => Promise<Entry[]>,
  ): Promise<Entry[]> {
    const results = await Promise.allSettled(ALL_SHARDS.map(read));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === results.length) throw failed[0].reason;
    for (const { reason } of failed) this.indexes.failures.failed(operation, reason);
    return results
      .flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
      .sort((a, b) => a.score - b.score || compareIds(a.member, b.member))
      .slice(0, limit * CANDIDATES_PER_RESULT);
  }

  /** Removes stale entries, shard key by shard key (see `RedisTokenIndexes.removeStale`). */
  private async removeStale(operation: Upkeep, stale: Entry[]): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const { key, member } of stale) byKey.set(key, [...(byKey.get(key) ?? []), member]);
    for (const [key, members] of byKey)
      await this.indexes.upkeep(operation, () => this.indexes.removeStale(key, members));
  }

  /** The records behind a SCAN page's user ids, and the cursor of the next page if there is one. */
  private async page(next: string | undefined, members: string[]): Promise<StoredPage> {
    const records: StoredRecord[] = [];
    for (const batch of batches(members)) {
      const reads = await Promise.all(batch.map((member) => this.reader.readMember(member)));
      for (const read of reads) if (read !== null && read !== 'unreadable') records.push(read);
    }
    return next === undefined ? { records } : { records, cursor: next };
  }
}

/** `[member, score, member, score…]` as ZRANGE … WITHSCORES answers, paired, with their key. */
function entries(key: string, flat: string[]): Entry[] {
  const result: Entry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    result.push({ key, member: flat[i], score: Number(flat[i + 1]) });
  return result;
}

/** Byte order of ASCII ids, as Redis orders equal scores. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
