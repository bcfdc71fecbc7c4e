// The rate limiter and its stores, on an injected clock: exactly `limit` hits per key and window,
// the next one refused with the seconds left in the window, other keys unaffected, and in Redis a
// limit shared by every process (limiters) using the same store.

import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MemoryRateLimitStore } from '../../src/consent/memory-rate-limit-store';
import { type RateLimitStore, RateLimiter } from '../../src/consent/rate-limiter';
import { RedisRateLimitStore } from '../../src/consent/redis-rate-limit-store';
import { REDIS_URL, deleteKeys } from '../../../test/support/redis-keys';

const MINUTE = 60_000;
/** A window boundary, so that the expected Retry-After values are exact. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE);

function behavesAsALimiter(makeStore: () => RateLimitStore): void {
  let now = T0;
  const limiter = (store: RateLimitStore) =>
    new RateLimiter({ limit: 3, windowMs: MINUTE, store, now: () => now });
  beforeEach(() => {
    now = T0;
  });

  test('3 hits per window are allowed, the 4th is refused with the seconds left', async () => {
    const l = limiter(makeStore());
    for (let i = 0; i < 3; i += 1) expect(await l.hit('user:a')).toEqual({ allowed: true });
    now = T0 + 12_300;
    expect(await l.hit('user:a')).toEqual({ allowed: false, retryAfterSeconds: 48 });
    // Refused hits count too: hammering does not help, and the wait is unchanged.
    expect(await l.hit('user:a')).toEqual({ allowed: false, retryAfterSeconds: 48 });
    now = T0 + MINUTE - 1;
    expect(await l.hit('user:a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Another key is unaffected.
    expect(await l.hit('user:b')).toEqual({ allowed: true });
    // A new window starts afresh.
    now = T0 + MINUTE;
    for (let i = 0; i < 3; i += 1) expect(await l.hit('user:a')).toEqual({ allowed: true });
    expect(await l.hit('user:a')).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });

  test('two limiters on one store share the count (two processes)', async () => {
    const store = makeStore();
    const [a, b] = [limiter(store), limiter(store)];
    expect(await a.hit('user:shared')).toEqual({ allowed: true });
    expect(await b.hit('user:shared')).toEqual({ allowed: true });
    expect(await a.hit('user:shared')).toEqual({ allowed: true });
    expect(await b.hit('user:shared')).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });
}

describe('RateLimiter with MemoryRateLimitStore', () => {
  behavesAsALimiter(() => new MemoryRateLimitStore());

  test('stale windows are forgotten as new hits come', async () => {
    const store = new MemoryRateLimitStore();
    for (let i = 0; i < 100; i += 1) await store.hit(`user:${i}`, T0, MINUTE);
    await store.hit('user:late', T0 + MINUTE, MINUTE);
    expect((store as unknown as { counts: Map<string, unknown> }).counts.size).toBe(1);
  });

  test('options are checked', () => {
    const store = new MemoryRateLimitStore();
    expect(() => new RateLimiter({ limit: 0, windowMs: MINUTE, store })).toThrow(TypeError);
    expect(() => new RateLimiter({ limit: 1.5, windowMs: MINUTE, store })).toThrow(TypeError);
    expect(() => new RateLimiter({ limit: 1, windowMs: 999, store })).toThrow(TypeError);
  });
});

describe('RateLimiter with RedisRateLimitStore', () => {
  const keyPrefix = `jtr-app-test:${randomUUID()}:`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis.quit();
    await deleteKeys(keyPrefix);
  });

  behavesAsALimiter(
    () => new RedisRateLimitStore({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:`, name: 'connect' }),
  );

  test('one counter per key and window, which expires after the window', async () => {
    const prefix = `${keyPrefix}${randomUUID()}:`;
    const store = new RedisRateLimitStore({ redis, keyPrefix: prefix, name: 'callback' });
    const counts = await Promise.all([1, 2, 3, 4, 5].map(() => store.hit('user:x', T0, MINUTE)));
    expect(counts.sort()).toEqual([1, 2, 3, 4, 5]);
    const key = `${prefix}rate:callback:user:x:${T0}`;
    expect(await redis.keys(`${prefix}*`)).toEqual([key]);
    expect(await redis.get(key)).toBe('5');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(MINUTE);
    expect(ttl).toBeLessThanOrEqual(MINUTE + 1_000);
  });
});
