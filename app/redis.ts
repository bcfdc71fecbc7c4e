// The app's Redis connections: fail fast (a Redis outage is a 503, not a hang), and log errors
// without the URL (it may hold a password).

import IORedis, { type Redis } from 'ioredis';
import type { Logger } from 'jira-token-rotation';

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
