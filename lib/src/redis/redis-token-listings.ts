// RedisTokenStore's listings: records by state and by idleness from the indexes (re-read, so a
// stale entry is never returned), and pages of a tenant's or every record by SCAN.

import type { Cluster, Redis } from 'ioredis';
import type { StoredPage, StoredRecord } from '../store/token-store';
import type { IndexedState } from '../store/token-store-indexes';
import { encodeClientKey, userId } from '../store/user-key';
import type { RedisRecordReader } from './redis-record-codec';
import { type RedisTokenIndexes, batches } from './redis-token-indexes';
import type { RedisTokenKeys } from './redis-token-keys';

/** How many index entries a listing reads per record asked for, as some may be stale. */
const CANDIDATES_PER_RESULT = 4;

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
    const key = this.keys.stateIndex(state);
    const candidates = pairs(
      await this.redis.zrange(key, 0, limit * CANDIDATES_PER_RESULT - 1, 'WITHSCORES'),
    );
    const reads = await Promise.all(candidates.map(({ member }) => this.reader.readMember(member)));
    const now = this.now();
    const found: StoredRecord[] = [];
    const stale: string[] = [];
    candidates.forEach(({ member, score }, i) => {
      const read = reads[i];
      if (read === 'unreadable') return;
      if (read?.record.state === state) found.push(read);
      else if (read === null || score <= now) stale.push(member);
    });
    if (stale.length > 0)
      await this.indexes.upkeep('listByState', () => this.indexes.removeStale(key, stale));
    return found.slice(0, limit);
  }

  /** Up to `limit` records rotated before `before`, oldest first; cleans gone and lagging entries. */
  async idleSince(before: number, limit: number): Promise<StoredRecord[]> {
    const key = this.keys.idleIndex();
    const candidates = pairs(
      await this.redis.zrangebyscore(
        key,
        '-inf',
        `(${before}`,
        'WITHSCORES',
        'LIMIT',
        0,
        limit * CANDIDATES_PER_RESULT,
      ),
    );
    const reads = await Promise.all(candidates.map(({ member }) => this.reader.readMember(member)));
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
      await this.indexes.upkeep(
        'listIdleSince',
        async () => void (await this.redis.zadd(key, 'XX', ...lagging)),
      );
    }
    if (stale.length > 0)
      await this.indexes.upkeep('listIdleSince', () => this.indexes.removeStale(key, stale));
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
      next,
      members.map((member) => `${tenant}.${member}`),
    );
  }

  /** One page of every tenant's records, by ZSCAN of the idle index. */
  async allPage(cursor: string | undefined, limit: number): Promise<StoredPage> {
    const [next, flat] = await this.redis.zscan(this.keys.idleIndex(), cursor ?? '0', 'COUNT', limit);
    return this.page(
      next,
      pairs(flat).map(({ member }) => member),
    );
  }

  /** The records behind a SCAN page's user ids; SCAN's final cursor is `'0'`. */
  private async page(next: string, members: string[]): Promise<StoredPage> {
    const records: StoredRecord[] = [];
    for (const batch of batches(members)) {
      const reads = await Promise.all(batch.map((member) => this.reader.readMember(member)));
      for (const read of reads) if (read !== null && read !== 'unreadable') records.push(read);
    }
    return next === '0' ? { records } : { records, cursor: next };
  }
}

/** `[member, score, member, score…]` as ZRANGE … WITHSCORES answers, paired. */
function pairs(flat: string[]): { member: string; score: number }[] {
  const result: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push({ member: flat[i], score: Number(flat[i + 1]) });
  return result;
}

/** Byte order of ASCII ids, as Redis orders equal scores. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
