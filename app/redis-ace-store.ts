// ACE's settings in Redis (ACE's bundled adapter needs the redis 3 API): one hash per setting name,
// one field per tenant, so listing every installation is an HVALS, never a KEYS scan.

import type { Redis } from 'ioredis';
import { type AceStore, deserialize, serialize, withoutSecrets } from './ace-store';
import { quitRedis } from './redis';

/** Options of {@link RedisAceStore}. */
export interface RedisAceStoreOptions {
  /** A client the store owns: {@link RedisAceStore.close} quits it. */
  redis: Redis;
  /** Prefix of the keys, e.g. `jtr:`; the store adds `ace:`. */
  keyPrefix: string;
}

/** {@link AceStore} in Redis: hash `<prefix>ace:<key>`, field `<clientKey>`. */
export class RedisAceStore implements AceStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisAceStoreOptions) {
    this.redis = options.redis;
    this.prefix = `${options.keyPrefix}ace:`;
  }

  async get(key: string, clientKey = ''): Promise<unknown> {
    return deserialize(await this.redis.hget(this.prefix + key, clientKey));
  }

  async set(key: string, value: unknown, clientKey = ''): Promise<unknown> {
    await this.redis.hset(this.prefix + key, clientKey, serialize(value));
    return this.get(key, clientKey);
  }

  async del(key: string, clientKey = ''): Promise<void> {
    await this.redis.hdel(this.prefix + key, clientKey);
  }

  async saveInstallation(
    value: Record<string, unknown>,
    clientKey: string,
  ): Promise<Record<string, unknown>> {
    await this.redis.hset(`${this.prefix}clientInfo`, clientKey, serialize(value));
    return withoutSecrets(value);
  }

  async getAllClientInfos(): Promise<unknown[]> {
    return (await this.redis.hvals(`${this.prefix}clientInfo`)).map(deserialize);
  }

  isMemoryStore(): boolean {
    return false;
  }

  async close(): Promise<void> {
    await quitRedis(this.redis);
  }
}
