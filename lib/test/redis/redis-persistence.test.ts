// checkRedisPersistence against redis-server processes of its own, one per configuration.

import Redis from 'ioredis';
import { checkRedisPersistence } from '../../src';
import { captureLogger } from '../../../test/support/capture-logger';
import { type RedisServerOptions, startRedisServer } from '../../../support/redis-server';

async function check(options: RedisServerOptions) {
  const server = await startRedisServer(options);
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  const logger = captureLogger();
  try {
    const result = await checkRedisPersistence(redis, logger);
    return { result, logged: logger.entries.map((e) => ({ level: e.level, event: e.obj.event })), logger };
  } finally {
    await redis.quit();
    await server.close();
  }
}

describe('checkRedisPersistence', () => {
  test('without persistence: a warning that a restart loses every token, and how to fix it', async () => {
    const { result, logged, logger } = await check({ aof: false });
    expect(result).toEqual({
      aof: false,
      rdb: false,
      evictionPolicy: 'noeviction',
      evictionSafe: true,
      checked: true,
    });
    expect(logged).toEqual([{ level: 'warn', event: 'redis_not_persistent' }]);
    expect(logger.entries[0].msg).toMatch(
      /restart loses every Jira token.*appendonly yes.*appendfsync always/,
    );
  });

  test('with RDB snapshots only: still a warning, naming what a snapshot loses', async () => {
    const { result, logged, logger } = await check({ aof: false, args: ['--save', '3600 1'] });
    expect(result).toEqual({
      aof: false,
      rdb: true,
      evictionPolicy: 'noeviction',
      evictionSafe: true,
      checked: true,
    });
    expect(logged).toEqual([{ level: 'warn', event: 'redis_not_persistent' }]);
    expect(logger.entries[0].msg).toMatch(/RDB snapshots.*since the last snapshot.*appendonly yes/);
  });

  test('with appendonly yes and appendfsync always: silent', async () => {
    const { result, logged } = await check({ aof: true });
    expect(result).toEqual({
      aof: true,
      rdb: false,
      evictionPolicy: 'noeviction',
      evictionSafe: true,
      checked: true,
    });
    expect(logged).toEqual([]);
  });

  test('with appendfsync everysec: no warning, an info line', async () => {
    const { result, logged } = await check({ aof: true, args: ['--appendfsync', 'everysec'] });
    expect(result).toEqual({
      aof: true,
      rdb: false,
      evictionPolicy: 'noeviction',
      evictionSafe: true,
      checked: true,
    });
    expect(logged).toEqual([{ level: 'info', event: 'redis_appendfsync_relaxed' }]);
  });

  test('with CONFIG disabled (managed Redis): an info line that it could not check, no throw', async () => {
    const { result, logged } = await check({ aof: false, args: ['--rename-command', 'CONFIG', ''] });
    expect(result).toEqual({ aof: false, rdb: false, evictionSafe: false, checked: false });
    expect(logged).toEqual([{ level: 'info', event: 'redis_persistence_unknown' }]);
  });

  test.each(['allkeys-lru', 'allkeys-lfu', 'allkeys-random'])(
    'with maxmemory-policy %s: a warning that token records can be evicted',
    async (policy) => {
      const { result, logged, logger } = await check({ aof: true, args: ['--maxmemory-policy', policy] });
      expect(result).toEqual({
        aof: true,
        rdb: false,
        evictionPolicy: policy,
        evictionSafe: false,
        checked: true,
      });
      expect(logged).toEqual([{ level: 'warn', event: 'redis_eviction_unsafe' }]);
      expect(logger.entries[0].msg).toMatch(/drops Jira token records.*maxmemory-policy noeviction/);
    },
  );

  test.each(['volatile-lru', 'volatile-ttl', 'noeviction'])(
    'with maxmemory-policy %s: silent (token records have no TTL, so they are never picked)',
    async (policy) => {
      const { result, logged } = await check({ aof: true, args: ['--maxmemory-policy', policy] });
      expect(result).toEqual({
        aof: true,
        rdb: false,
        evictionPolicy: policy,
        evictionSafe: true,
        checked: true,
      });
      expect(logged).toEqual([]);
    },
  );
});
