// The start-up check that the Redis holding tokens persists them: a restart of a Redis without
// persistence forgets every chain, and a rotation lost from a snapshot kills a chain after the leeway.

import type { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../logger';

/** What {@link checkRedisPersistence} found. */
export interface RedisPersistence {
  /** `appendonly yes`: every acknowledged write survives a restart (with `appendfsync always`). */
  aof: boolean;
  /** RDB snapshots (`save` is set): writes since the last snapshot are lost on a restart. */
  rdb: boolean;
  /** False when Redis would not say (CONFIG disabled, as on most managed Redis): `aof` and `rdb` are then false. */
  checked: boolean;
}

/**
 * Reads `CONFIG GET appendonly`, `save` and `appendfsync`, and warns (`event: 'redis_not_persistent'`)
 * when append-only persistence is off: a restarted Redis would then lose every token, or the
 * rotations since its last snapshot, and with them the users' Jira connections. Token writes are
 * rare, so `appendonly yes` with `appendfsync always` costs little; `everysec` is noted at info.
 * When CONFIG is refused (managed Redis usually renames or forbids it), logs at info that it could
 * not check. Never throws: it is advice for the operator, not a reason to fail start-up.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 */
export async function checkRedisPersistence(
  redis: Redis,
  logger: Logger = silentLogger,
): Promise<RedisPersistence> {
  let appendonly: string, save: string, appendfsync: string;
  try {
    [appendonly, save, appendfsync] = await Promise.all(
      ['appendonly', 'save', 'appendfsync'].map((name) => configGet(redis, name)),
    );
  } catch (error) {
    logger.info(
      { event: 'redis_persistence_unknown', err: error instanceof Error ? error.message : String(error) },
      'Could not check whether Redis persists the Jira tokens (CONFIG GET failed); make sure it runs with appendonly yes',
    );
    return { aof: false, rdb: false, checked: false };
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
  return { aof, rdb, checked: true };
}

/** One `CONFIG GET` value; throws when the reply is not the `[name, value]` pair it should be. */
async function configGet(redis: Redis, name: string): Promise<string> {
  const reply: unknown = await redis.config('GET', name);
  if (!Array.isArray(reply) || reply[0] !== name || typeof reply[1] !== 'string') {
    throw new Error(`CONFIG GET ${name} gave no value`);
  }
  return reply[1];
}
