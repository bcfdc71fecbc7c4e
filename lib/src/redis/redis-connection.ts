// The Redis client a lock or a notice channel works with: the caller's, or one of its own made from
// a URL (which it must also close), and how such connections end.

import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** A client to use, and whether this user of it created it (and so must quit it). */
export interface RedisConnection {
  client: Redis;
  owned: boolean;
}

/**
 * The given ioredis client, or a new one from a Redis URL.
 * @param what names the user in the TypeError and in the connection's warnings.
 * @throws TypeError when `redis` is neither an ioredis client nor a string.
 */
export function connectRedis(redis: Redis | string, logger: Logger, what: string): RedisConnection {
  if (typeof redis !== 'string' && (!redis || typeof redis.duplicate !== 'function')) {
    throw new TypeError('redis must be an ioredis client or a Redis URL');
  }
  if (typeof redis !== 'string') return { client: redis, owned: false };
  const client = new Redis(redis);
  // Nobody else can listen on a client we created; without a listener ioredis prints its errors itself.
  client.on('error', (error: Error) => logger.warn({ err: error }, `${what} Redis connection error`));
  return { client, owned: true };
}

/** Quits a connection politely if it is up, else drops it; resolves once it has ended. */
export async function quit(connection: Redis): Promise<void> {
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
