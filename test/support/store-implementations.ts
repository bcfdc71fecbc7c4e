// The two TokenStore implementations, for suites that run one contract against both: each Redis
// store gets a fresh key prefix (hence empty global indexes) on the shared Redis, and the suite's
// keys are deleted after it.

import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MemoryTokenStore, RedisTokenStore, type TokenStore } from 'jira-token-rotation';

/**
 * Registers the suite's Redis connection (`beforeAll`/`afterAll`) and returns `describe.each`
 * rows: `[name, createStore]`. Call it at the top level of a test file.
 */
export function storeImplementations(label: string): [string, () => TokenStore][] {
  const filePrefix = `jtr-test:${label}:${process.pid}:${randomUUID().slice(0, 8)}:`;
  let redis: Redis;
  let storeCount = 0;
  beforeAll(() => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${filePrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return [
    ['MemoryTokenStore', () => new MemoryTokenStore()],
    ['RedisTokenStore', () => new RedisTokenStore({ redis, keyPrefix: `${filePrefix}${++storeCount}:` })],
  ];
}
