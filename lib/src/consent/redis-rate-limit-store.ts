// Rate-limit counts in Redis, so that a limit holds across every process: one key per key and
// window, counted and given its expiry in one script.

import type { RedisClient } from '../redis/redis-input';
import type { RateLimitStore } from './rate-limiter';

/**
 * KEYS[1]: the counter of one key in one window. ARGV[1]: its life, ms.
 * The first hit of a window sets the expiry, in the same step as the count, so a counter can
 * never be left without one.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client, `Redis` or `Cluster` (every command touches one key). The store never closes it. */
  redis: RedisClient;
  /** Prefix of the keys, e.g. `jtr:`. */
  keyPrefix: string;
  /** Which limit, e.g. `connect`: keys are `<prefix>rate:<name>:<key>:<window start>`. */
  name: string;
}

/** {@link RateLimitStore} in Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  /** @throws TypeError naming a missing or wrong option. */
  constructor(options: RedisRateLimitStoreOptions) {
    if (typeof options?.redis?.eval !== 'function')
      throw new TypeError('RedisRateLimitStore: redis must be an ioredis client');
    if (typeof options.keyPrefix !== 'string')
      throw new TypeError('RedisRateLimitStore: keyPrefix must be a string');
    if (typeof options.name !== 'string' || options.name === '')
      throw new TypeError('RedisRateLimitStore: name must be a non-empty string');
    this.redis = options.redis;
    this.prefix = `${options.keyPrefix}rate:${options.name}:`;
  }

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    // The window's own length, plus a second for processes whose clocks are a little behind.
    const count = await this.redis.eval(HIT, 1, `${this.prefix}${key}:${windowStart}`, windowMs + 1_000);
    return Number(count);
  }
}
