// What the package accepts as "Redis": a client the vendor built (one node, Sentinel or Cluster),
// or what to build one from (a URL, cluster nodes, or sentinels), and how the built ones are made.

import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** An ioredis client: a single node (possibly found through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** A Redis Cluster to connect to: its startup nodes, and ioredis `ClusterOptions`. */
export interface RedisClusterInput {
  /** Some of the cluster's nodes (`'host:port'`, a port, or `{ host, port }`); ioredis finds the rest. */
  cluster: ClusterNode[];
  /** ioredis `ClusterOptions`; node connection options go in `redisOptions`. */
  options?: ClusterOptions;
}

/**
 * A primary found through Redis Sentinel: ioredis `RedisOptions` with `sentinels` (at least one
 * `{ host, port }`) and `name`, the primary's name in the sentinels' configuration.
 */
export interface RedisSentinelInput extends RedisOptions {
  sentinels: NonNullable<RedisOptions['sentinels']>;
  name: string;
}

/**
 * What every option that takes Redis accepts: an ioredis client (`Redis` or `Cluster`), used as
 * it is and never closed; or a `redis://`/`rediss://` URL (one node), `{ cluster, options? }` or
 * `{ sentinels, name, ... }`, from which a client of the package's own is built, and closed with it.
 */
export type RedisInput = string | RedisClient | RedisClusterInput | RedisSentinelInput;

/** True for an ioredis `Cluster` (duck-typed, so a Cluster of another copy of ioredis counts too). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: unknown }).isCluster === true;
}

/** True for an ioredis client of either kind, of this or another copy of ioredis. */
export function isRedisClient(value: unknown): value is RedisClient {
  const client = value as Partial<Redis> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function'
  );
}

function isClusterInput(value: object): value is RedisClusterInput {
  return 'cluster' in value;
}

/**
 * Checks a {@link RedisInput} without connecting.
 * @param name the option's name, for the TypeError.
 * @throws TypeError naming what is wrong.
 */
export function assertRedisInput(value: unknown, name = 'redis'): asserts value is RedisInput {
  const forms =
    'a Redis URL, an ioredis Redis or Cluster, { cluster: nodes, options? } or { sentinels, name }';
  if (typeof value === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // Reported below.
    }
    if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:'))
      throw new TypeError(`${name} must be a redis: or rediss: URL`);
    return;
  }
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be ${forms}`);
  if (isRedisClient(value)) return;
  if (isClusterInput(value)) {
    if (!Array.isArray(value.cluster) || value.cluster.length === 0)
      throw new TypeError(`${name}.cluster must be a non-empty array of cluster nodes`);
    if (value.options !== undefined && (typeof value.options !== 'object' || value.options === null))
      throw new TypeError(`${name}.options must be ioredis ClusterOptions (an object)`);
    return;
  }
  const sentinel = value as Partial<RedisSentinelInput>;
  if ('sentinels' in value || 'name' in value) {
    if (!Array.isArray(sentinel.sentinels) || sentinel.sentinels.length === 0)
      throw new TypeError(`${name}.sentinels must be a non-empty array of { host, port }`);
    if (typeof sentinel.name !== 'string' || sentinel.name === '')
      throw new TypeError(`${name}.name must be the primary's name in the sentinels' configuration`);
    return;
  }
  throw new TypeError(`${name} must be ${forms}`);
}

/**
 * Settings applied to every client the package builds (never to one passed in), on top of the
 * vendor's own options, which win.
 */
export interface BuildSettings {
  /** Options of each node connection (a single node, a Sentinel-found primary, or each cluster node). */
  node?: RedisOptions;
  /** Cluster-level options: redirections and the retry delays on failover and cluster-down. */
  cluster?: ClusterOptions;
}

/** Builds a client from a URL, cluster nodes or sentinels; a client passed in is not this function's business. */
export function buildRedisClient(
  input: Exclude<RedisInput, RedisClient>,
  settings: BuildSettings = {},
): RedisClient {
  if (typeof input === 'string') return new Redis(input, { ...settings.node });
  if (isClusterInput(input)) {
    const options = input.options ?? {};
    return new Cluster(input.cluster, {
      ...settings.cluster,
      ...options,
      redisOptions: { ...settings.node, ...options.redisOptions },
    });
  }
  return new Redis({ ...settings.node, ...input });
}
