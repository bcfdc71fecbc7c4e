// The options of RedisTokenStore, and their checks: a store refuses at construction what would
// fail later on a request.

import type { Cluster, Redis } from 'ioredis';
import { silentLogger, type Logger } from '../logger';
import { DEFAULTS } from '../manager/options';
import { type ReplicasToAck, checkReplicaAcks } from './replica-acks';

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * An ioredis client or Cluster. The store never closes it. Give it a `commandTimeout` (the token
   * manager's clients have one): the store sets no timeouts itself, and without one a hung Redis
   * stalls requests for as long as the connection lives instead of failing them with a 503.
   * Leave ioredis's own `keyPrefix` unset; use this store's `keyPrefix`.
   */
  redis: Redis | Cluster;
  /**
   * Prefix of every key the store writes. Default `DEFAULTS.keyPrefix` (`'jtr:'`). It must not
   * contain `{` or `}`: Redis Cluster hashes the first `{…}` of a key, which has to be the tenant's tag.
   */
  keyPrefix?: string;
  /** Where warnings about index upkeep and unreadable records go. Default: {@link silentLogger}. */
  logger?: Logger;
  /**
   * The clock, in epoch ms. Default `Date.now`. Used to decide when a state index entry whose record
   * is in another state is removed (see {@link RedisTokenStore.listByState}), and to log failed
   * index upkeep at most once a minute.
   */
  now?: () => number;
  /**
   * Replicas that must acknowledge each record write (Redis `WAIT`) before it counts as done; a
   * write they do not acknowledge throws `NotDurableError`. Default `DEFAULTS.replicasToAck`
   * (`'auto'`: 1 where the primary or a Cluster master has replicas, 0 on a lone node).
   */
  replicasToAck?: ReplicasToAck;
  /** How long `WAIT` waits for them. Default `DEFAULTS.replicaAckTimeoutMs` (500). */
  replicaAckTimeoutMs?: number;
}

/** The options with their defaults applied, once every one is checked. */
export type ResolvedRedisTokenStoreOptions = Required<RedisTokenStoreOptions>;

/**
 * Applies the defaults and checks the options.
 * @throws TypeError naming the option that is wrong.
 */
export function resolveRedisTokenStoreOptions(
  options: RedisTokenStoreOptions,
): ResolvedRedisTokenStoreOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('RedisTokenStore needs { redis }');
  const { redis, keyPrefix = DEFAULTS.keyPrefix, logger = silentLogger, now = Date.now } = options;
  const { replicasToAck = DEFAULTS.replicasToAck, replicaAckTimeoutMs = DEFAULTS.replicaAckTimeoutMs } =
    options;
  checkReplicaAcks(replicasToAck, replicaAckTimeoutMs);
  if (typeof (redis as Partial<Redis> | undefined)?.defineCommand !== 'function') {
    throw new TypeError('RedisTokenStore option redis must be an ioredis client or Cluster');
  }
  if (clientKeyPrefix(redis)) {
    throw new TypeError(
      "RedisTokenStore: unset the ioredis client's keyPrefix option and pass keyPrefix to RedisTokenStore " +
        'instead (the tenant purge script builds record keys that ioredis cannot prefix)',
    );
  }
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    throw new TypeError('RedisTokenStore option keyPrefix must be a string without { or }');
  }
  if (typeof now !== 'function') throw new TypeError('RedisTokenStore option now must be a function');
  return { redis, keyPrefix, logger, now, replicasToAck, replicaAckTimeoutMs };
}

/** The ioredis `keyPrefix` a client (or a Cluster's node clients) would add to every key. */
function clientKeyPrefix(redis: Redis | Cluster): string | undefined {
  const options = (redis as { options?: { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } })
    .options;
  return options?.keyPrefix || options?.redisOptions?.keyPrefix || undefined;
}
