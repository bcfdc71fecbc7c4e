// ioredis clients for a Redis Cluster and for a Sentinel group with the fail-fast settings the
// token manager's factory gives the single-node clients it builds (command timeout, few retries),
// plus what a client needs to follow a failover: a slots refresh on a timer (a frozen primary
// answers nothing, so no MOVED tells the client), and, under Sentinel, the failover detector and a
// reconnect when a demoted primary answers READONLY.

import type { ClusterOptions, RedisOptions } from 'ioredis';

/** The factory's own settings for clients it builds (`OWNED_REDIS_OPTIONS`): fail, don't hang. */
const FAIL_FAST = Object.freeze({ commandTimeout: 2_000, maxRetriesPerRequest: 2, connectTimeout: 2_000 });

/** Options for `new Cluster(startupNodes, options)`. */
export function failFastCluster(): ClusterOptions {
  return {
    redisOptions: { ...FAIL_FAST },
    // Learn a promotion within a second even when the old primary is frozen and says nothing.
    slotsRefreshInterval: 1_000,
    slotsRefreshTimeout: 1_000,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    maxRedirections: 16,
  };
}

/** Options for `new Redis(options)` on a Sentinel group. */
export function failFastSentinel(
  sentinels: Array<{ host: string; port: number }>,
  name: string,
): RedisOptions {
  return {
    ...FAIL_FAST,
    sentinels,
    name,
    // Subscribes to the sentinels' +switch-master and reconnects to the new primary at once.
    failoverDetector: true,
    // A primary demoted under us refuses writes: reconnect (sentinels name the new one) and resend.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}
