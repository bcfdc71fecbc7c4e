// The start-up check that the Redis holding tokens keeps them: a restart of a Redis without
// persistence forgets every chain, a rotation lost from a snapshot kills a chain after the leeway,
// and an eviction policy that may drop keys without a TTL drops token records under memory pressure.

import type { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../logger';

/** What {@link checkRedisPersistence} found. */
export interface RedisPersistence {
  /** `appendonly yes`: every acknowledged write survives a restart (with `appendfsync always`). */
  aof: boolean;
  /** RDB snapshots (`save` is set): writes since the last snapshot are lost on a restart. */
  rdb: boolean;
  /** `maxmemory-policy`, e.g. `noeviction`; `undefined` when Redis would not say. */
  evictionPolicy?: string;
  /**
   * Whether the eviction policy keeps token records: `noeviction`, or a `volatile-*` policy (token
   * records never carry a TTL, so those policies never pick them). False for `allkeys-*`, and when
   * Redis would not say.
   */
  evictionSafe: boolean;
  /** False when Redis would not say (CONFIG disabled, as on most managed Redis): the booleans are then false. */
  checked: boolean;
}

/** Eviction policies that never evict a key without a TTL, i.e. never a token record. */
export function isEvictionSafe(policy: string): boolean {
  return policy === 'noeviction' || policy.startsWith('volatile-');
}

/**
 * Reads `CONFIG GET appendonly`, `save` and `appendfsync`, and warns (`event: 'redis_not_persistent'`)
 * when append-only persistence is off: a restarted Redis would then lose every token, or the
 * rotations since its last snapshot, and with them the users' Jira connections. Token writes are
 * rare, so `appendonly yes` with `appendfsync always` costs little; `everysec` is noted at info.
 * Also reads `maxmemory-policy` and warns (`event: 'redis_eviction_unsafe'`) for an `allkeys-*`
 * policy: under memory pressure Redis would then evict token records, which have no TTL, and their
 * users would have to reconnect Jira. `noeviction` and `volatile-*` are safe.
 * When CONFIG is refused (managed Redis usually renames or forbids it), logs at info that it could
 * not check. Never throws: it is advice for the operator, not a reason to fail start-up.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 */
export async function checkRedisPersistence(
  redis: Redis,
  logger: Logger = silentLogger,
): Promise<RedisPersistence> {
  let appendonly: string, save: string, appendfsync: string, evictionPolicy: string;
  try {
    [appendonly, save, appendfsync, evictionPolicy] = await Promise.all(
      ['appendonly', 'save', 'appendfsync', 'maxmemory-policy'].map((name) => configGet(redis, name)),
    );
  } catch (error) {
    logger.info(
      { event: 'redis_persistence_unknown', err: error instanceof Error ? error.message : String(error) },
      'Could not check whether Redis persists the Jira tokens (CONFIG GET failed); make sure it runs with appendonly yes',
    );
    return { aof: false, rdb: false, evictionSafe: false, checked: false };
  }
  const aof = appendonly === 'yes';
  const rdb = save.trim() !== '';
  if (!aof) {
    logger.warn(
      { event: 'redis_not_persistent', aof, rdb },
      rdb
        ? 'Redis persists only by RDB snapshots: a restart loses the Jira token rotations since the last snapshot, and users must then reconnect Jira. Set appendonly yes (ideally appendfsync always)'
        : 'Redis does not persist: a restart loses every Jira token, and users must then reconnect Jira. Set appendonly yes (ideally appendfsync always)',
    );
  } else if (appendfsync !== 'always') {
    logger.info(
      { event: 'redis_appendfsync_relaxed', appendfsync },
      `Redis appends with appendfsync ${appendfsync}: a crash can lose the last token rotations; appendfsync always is cheap here, token writes are rare`,
    );
  }
  const evictionSafe = isEvictionSafe(evictionPolicy);
  if (!evictionSafe) {
    logger.warn(
      { event: 'redis_eviction_unsafe', evictionPolicy },
      `Redis evicts with maxmemory-policy ${evictionPolicy}: under memory pressure it drops Jira token records (they have no TTL), and users must then reconnect Jira. Set maxmemory-policy noeviction (or a volatile-* policy)`,
    );
  }
  return { aof, rdb, evictionPolicy, evictionSafe, checked: true };
}

/** One `CONFIG GET` value; throws when the reply is not the `[name, value]` pair it should be. */
async function configGet(redis: Redis, name: string): Promise<string> {
  const reply: unknown = await redis.config('GET', name);
  if (!Array.isArray(reply) || reply[0] !== name || typeof reply[1] !== 'string') {
    throw new Error(`CONFIG GET ${name} gave no value`);
  }
  return reply[1];
}
