// The app's Redis connections: fail fast (a Redis outage is a 503, not a hang), log errors without
// the URL (it may hold a password), and warn when the Redis that holds tokens does not persist.

import IORedis, { type Redis } from 'ioredis';
import type { Logger } from '../lib';

/** Opens a client; `name` shows in `CLIENT LIST`. The caller quits it. */
export function createRedisClient(url: string, name: string, logger: Logger): Redis {
  const client = new IORedis(url, { commandTimeout: 2_000, maxRetriesPerRequest: 2, connectionName: name });
  client.on('error', (error: Error) =>
    logger.warn({ event: 'redis_error', connection: name, err: error.message }, 'Redis connection error'),
  );
  return client;
}

/** Quits a client, or drops it when the server is gone. */
export async function quitRedis(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}

/**
 * A rotated refresh token that Redis loses on restart kills the user's chain, so the token Redis
 * must persist every write (DESIGN.md). Warns when `appendonly` is off; managed Redis services
 * that forbid CONFIG are skipped quietly.
 */
export async function warnUnlessPersistent(client: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await client.config('GET', 'appendonly')) as string[];
    if (reply[1] === 'no') {
      logger.warn(
        { event: 'redis_not_persistent' },
        'Redis runs without appendonly: a restart can lose rotated refresh tokens (set appendonly yes)',
      );
    }
  } catch {
    logger.debug({ event: 'redis_config_unavailable' }, 'Could not read the Redis appendonly setting');
  }
}
