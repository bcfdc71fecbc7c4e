// ioredis clients for a Redis Cluster and for a Sentinel group with the fail-fast settings the
// token manager's factory gives the single-node clients it builds (command timeout, few retries),
// plus what a client needs to follow a failover: a slots refresh on a timer (a frozen primary
// answers nothing, so no MOVED tells the client), and, under Sentinel, a reconnect when a demoted
// primary answers READONLY. Not ioredis's `failoverDetector`: a client closed while the detector
// re-subscribes after a failover leaves sentinel connections that retry for ever (jest never exits).

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

/**
 * Options for `new Redis(options)` on a Sentinel group. `commandTimeoutMs: null` leaves commands
 * without a timeout, as ioredis does by default.
 */
export function failFastSentinel(
  sentinels: Array<{ host: string; port: number }>,
  name: string,
  commandTimeoutMs: number | null = FAIL_FAST.commandTimeout,
): RedisOptions {
  return {
    ...FAIL_FAST,
    commandTimeout: commandTimeoutMs ?? undefined,
    sentinels,
    name,
    // A primary demoted under us refuses writes: reconnect (sentinels name the new one) and resend.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}
