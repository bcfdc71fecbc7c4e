// Rebuilding RedisTokenStore's indexes from the records: a SCAN of every record key on every
// primary, each record re-indexed in its tenant's shard. The indexes are a superset hint that can
// always be rebuilt; this is how data written before the sharding (in the one `{idx}` slot) moves
// to the shards, and how an index lost with a node comes back.

import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { StoredRecord } from '../store/token-store';
import type { RedisRecordReader } from './redis-record-codec';
import type { RedisTokenIndexes } from './redis-token-indexes';
import type { RedisTokenKeys } from './redis-token-keys';

/** Record keys read per SCAN step. */
const SCAN_COUNT = 500;

/** What a rebuild did. */
export interface IndexRebuild {
  /** Records found and indexed. */
  records: number;
  /** Unsharded index keys of earlier versions deleted (0 once migrated). */
  legacyKeysDeleted: number;
}

/**
 * Adds every record's index entries (never removes one: stale entries are the listings' to clean),
 * then deletes the unsharded indexes of earlier versions. Safe to run while the store is in use
 * and from several processes at once: every step is idempotent.
 */
export async function rebuildIndexes(
  redis: Redis | Cluster,
  keys: RedisTokenKeys,
  reader: RedisRecordReader,
  indexes: RedisTokenIndexes,
): Promise<IndexRebuild> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  let records = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', keys.recordPattern(), 'COUNT', SCAN_COUNT);
      cursor = next;
      const members = found.map((key) => keys.memberOfRecord(key)).filter((m): m is string => m !== null);
      const reads = await Promise.all(members.map((member) => reader.readMember(member)));
      const current = reads.filter((read): read is StoredRecord => read !== null && read !== 'unreadable');
      await indexes.indexRecords(current);
      records += current.length;
    } while (cursor !== '0');
  }
  // All in the `{idx}` slot, so one DEL serves a Cluster too.
  const legacyKeysDeleted = await redis.del(...keys.legacyIndexes());
  return { records, legacyKeysDeleted };
}

function isCluster(redis: Redis | Cluster): redis is Cluster {
  return redis.isCluster === true;
}

/**
 * The rebuild on start: the first listing of a store checks (one `EXISTS`) whether the unsharded
 * indexes of an earlier version are still there, and if so rebuilds before it lists, so chains
 * indexed only there are swept without anyone calling `rebuildIndexes`. A failed check or rebuild
 * is counted and logged, and tried again by the next listing; it never fails the listing.
 */
export class LegacyIndexMigration {
  private done = false;
  private running?: Promise<void>;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisTokenKeys,
    private readonly rebuild: () => Promise<IndexRebuild>,
    private readonly indexes: RedisTokenIndexes,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the migration is done, or has failed this time. */
  async ensure(): Promise<void> {
    if (this.done) return;
    this.running ??= this.run().finally(() => (this.running = undefined));
    await this.running;
  }

  private async run(): Promise<void> {
    try {
      // The legacy keys share the `{idx}` slot, so one EXISTS counts them on a Cluster too.
      if ((await this.redis.exists(...this.keys.legacyIndexes())) > 0) {
        const result = await this.rebuild();
        this.logger.info(
          { store: 'RedisTokenStore', ...result },
          'Token store indexes rebuilt into their shards; the unsharded indexes of an earlier version are deleted',
        );
      }
      this.done = true;
    } catch (err) {
      this.indexes.failures.failed('rebuild', err);
    }
  }
}
