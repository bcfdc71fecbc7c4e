// The Redis client a lock or a notice channel works with: the caller's, or one of its own built
// from a URL, cluster nodes or sentinels (which it must also close), and how such connections end.

import type { Logger } from '../logger';
import {
  type BuildSettings,
  type RedisClient,
  type RedisInput,
  assertRedisInput,
  buildRedisClient,
  isRedisClient,
} from './redis-input';

/** A client to use, and whether this user of it created it (and so must quit it). */
export interface RedisConnection {
  client: RedisClient;
  owned: boolean;
}

/**
 * The given ioredis client (a `Redis` or a `Cluster`), or a new one built from a URL, cluster
 * nodes or sentinels with `settings` under the caller's own options.
 * @param what names the user in the connection's warnings.
 * @throws TypeError when `redis` is none of the forms of {@link RedisInput}.
 */
export function connectRedis(
  redis: RedisInput,
  logger: Logger,
  what: string,
  settings?: BuildSettings,
): RedisConnection {
  assertRedisInput(redis);
  if (isRedisClient(redis)) return { client: redis, owned: false };
  const client = buildRedisClient(redis, settings);
  // Nobody else can listen on a client we created; without a listener ioredis prints its errors itself.
  client.on('error', (error: Error) => logger.warn({ err: error }, `${what} Redis connection error`));
  return { client, owned: true };
}

/** Quits a connection politely if it is up, else drops it; resolves once it has ended. */
export async function quit(connection: RedisClient): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    const ended = new Promise((resolve) => connection.once('end', resolve));
    try {
      await connection.quit();
      await ended;
      return;
    } catch {
      // Fall through: the connection died under the QUIT.
    }
  }
  connection.disconnect();
}
