// The one-time store in Redis, for several processes: SET NX PX to add, GETDEL to take
// (Redis 6.2 or later), so a value is consumed exactly once whichever process asks.

import type { RedisClient } from '../redis/redis-input';
import { type OneTimeStore, hashId } from './one-time-store';

/** Options of {@link RedisOneTimeStore}. */
export interface RedisOneTimeStoreOptions {
  /** An ioredis client, `Redis` or `Cluster` (every command touches one key). The store never closes it. */
  redis: RedisClient;
  /** Prefix of the keys, e.g. `jtr:`. */
  keyPrefix: string;
  /** What the values are, e.g. `oauth-state`: keys are `<prefix><namespace>:<sha256 of the id>`. */
  namespace: string;
}

/** {@link OneTimeStore} in Redis. */
export class RedisOneTimeStore implements OneTimeStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  /** @throws TypeError naming a missing or wrong option. */
  constructor(options: RedisOneTimeStoreOptions) {
    if (typeof options?.redis?.set !== 'function' || typeof options.redis.getdel !== 'function')
      throw new TypeError('RedisOneTimeStore: redis must be an ioredis client');
    if (typeof options.keyPrefix !== 'string')
      throw new TypeError('RedisOneTimeStore: keyPrefix must be a string');
    if (typeof options.namespace !== 'string' || options.namespace === '')
      throw new TypeError('RedisOneTimeStore: namespace must be a non-empty string');
    this.redis = options.redis;
    this.prefix = `${options.keyPrefix}${options.namespace}:`;
  }

  async add(id: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.prefix + hashId(id), value, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async take(id: string): Promise<string | null> {
    return this.redis.getdel(this.prefix + hashId(id));
  }
}
