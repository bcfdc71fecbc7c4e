// Every public entry that takes Redis takes a Cluster too (checked by the type check: each line
// below failed with TS2322/TS2345 when they took only a single-node client), and each form a
// vendor may pass is told apart without connecting.

import { Cluster, Redis } from 'ioredis';
import {
  type RedisInput,
  RedisNoticeChannel,
  RedisOneTimeStore,
  RedisRateLimitStore,
  RedisTokenStore,
  RedlockRefreshLock,
  type TokenManagerOptions,
  checkRedisPersistence,
  createTokenManager,
} from '../../src';
import { assertRedisInput, buildRedisClient, isCluster, isRedisClient } from '../../src/redis/redis-input';

/** Never called: it only has to compile. */
function acceptsCluster(cluster: Cluster): void {
  const options: TokenManagerOptions = { clientId: 'id', clientSecret: 'secret', redis: cluster };
  void createTokenManager(options);
  void new RedlockRefreshLock({ redis: cluster });
  void new RedisNoticeChannel({ redis: cluster });
  void new RedisTokenStore({ redis: cluster });
  void new RedisOneTimeStore({ redis: cluster, keyPrefix: 'jtr:', namespace: 'state' });
  void new RedisRateLimitStore({ redis: cluster, keyPrefix: 'jtr:', name: 'consent' });
  void checkRedisPersistence(cluster);
  const forms: RedisInput[] = [
    cluster,
    'redis://127.0.0.1:6379',
    { cluster: [{ host: '127.0.0.1', port: 7000 }], options: { scaleReads: 'master' } },
    { sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'primary', db: 0 },
  ];
  void forms;
  // @ts-expect-error a sentinel group needs the primary's name.
  const nameless: RedisInput = { sentinels: [{ host: '127.0.0.1', port: 26379 }] };
  void nameless;
}

test('the type check above compiles, and clients of both kinds are told apart without connecting', () => {
  expect(typeof acceptsCluster).toBe('function');
  const single = new Redis({ lazyConnect: true });
  const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
  try {
    expect([isRedisClient(single), isCluster(single)]).toEqual([true, false]);
    expect([isRedisClient(cluster), isCluster(cluster)]).toEqual([true, true]);
    expect(isRedisClient({ cluster: [7000] })).toBe(false);
    expect(() => assertRedisInput(single)).not.toThrow();
    expect(() => assertRedisInput(cluster)).not.toThrow();
    expect(() => assertRedisInput({ cluster: ['127.0.0.1:7000'] })).not.toThrow();
    expect(() => assertRedisInput({ sentinels: [{ port: 26379 }], name: 'primary' })).not.toThrow();
    expect(() => assertRedisInput('rediss://cache.example.test:6380')).not.toThrow();
  } finally {
    single.disconnect();
    cluster.disconnect();
  }
});

test("a built client gets the settings under the vendor's own options, which win", () => {
  const settings = {
    node: { commandTimeout: 2_000, maxRetriesPerRequest: 2, connectionName: 'jtr' },
    cluster: { maxRedirections: 8, retryDelayOnFailover: 250 },
  };
  const cluster = buildRedisClient(
    {
      cluster: [{ host: '127.0.0.1', port: 1 }],
      options: { lazyConnect: true, retryDelayOnFailover: 50, redisOptions: { commandTimeout: 500 } },
    },
    settings,
  ) as Cluster;
  const sentinel = buildRedisClient(
    {
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'primary',
      lazyConnect: true,
      connectionName: 'app',
    },
    settings,
  ) as Redis;
  const url = buildRedisClient('redis://127.0.0.1:1/3', {
    node: { ...settings.node, lazyConnect: true },
  }) as Redis;
  try {
    expect(isCluster(cluster)).toBe(true);
    expect(cluster.options).toMatchObject({
      maxRedirections: 8,
      retryDelayOnFailover: 50,
      redisOptions: { commandTimeout: 500, maxRetriesPerRequest: 2, connectionName: 'jtr' },
    });
    expect(sentinel.options).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'primary',
      commandTimeout: 2_000,
      maxRetriesPerRequest: 2,
      connectionName: 'app',
    });
    expect(url.options).toMatchObject({ port: 1, db: 3, commandTimeout: 2_000, connectionName: 'jtr' });
  } finally {
    for (const client of [cluster, sentinel, url]) client.disconnect();
  }
});
