// One-time stores (memory and Redis): add only when new, take once, expire, and key by a hash.

import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MemoryOneTimeStore } from '../../src/consent/memory-one-time-store';
import { type OneTimeStore, hashId } from '../../src/consent/one-time-store';
import { RedisOneTimeStore } from '../../src/consent/redis-one-time-store';
import { REDIS_URL, deleteKeys } from '../../../test/support/redis-keys';

describe('MemoryOneTimeStore', () => {
  let now = 0;
  const store = new MemoryOneTimeStore(() => now);

  test('add once, take once', async () => {
    expect(await store.add('id-1', 'value', 1_000)).toBe(true);
    expect(await store.add('id-1', 'other', 1_000)).toBe(false);
    expect(await store.take('id-1')).toBe('value');
    expect(await store.take('id-1')).toBeNull();
    expect(await store.take('unknown')).toBeNull();
  });

  test('an expired value is gone, and its id can be added again', async () => {
    await store.add('id-2', 'value', 1_000);
    now += 1_000;
    expect(await store.take('id-2')).toBeNull();
    await store.add('id-3', 'value', 1_000);
    now += 1_000;
    expect(await store.add('id-3', 'again', 1_000)).toBe(true);
  });
});

describe('RedisOneTimeStore', () => {
  const keyPrefix = `jtr-app-test:${randomUUID()}:`;
  let redis: Redis;
  let store: OneTimeStore;
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = new RedisOneTimeStore({ redis, keyPrefix, namespace: 'oauth-state' });
  });
  afterAll(async () => {
    await redis.quit();
    await deleteKeys(keyPrefix);
  });

  test('the key is the hash of the id, with the TTL; concurrent takes get it once', async () => {
    expect(await store.add('state-r', 'value', 60_000)).toBe(true);
    expect(await store.add('state-r', 'other', 60_000)).toBe(false);
    const key = `${keyPrefix}oauth-state:${hashId('state-r')}`;
    expect(await redis.keys(`${keyPrefix}*`)).toEqual([key]);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const takes = await Promise.all([store.take('state-r'), store.take('state-r'), store.take('state-r')]);
    expect(takes.filter((v) => v !== null)).toEqual(['value']);
    expect(await redis.exists(key)).toBe(0);
  });
});
