// The factory: check options, pick the store, lock and notice channel (Redis or in-process), wire the manager.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { InProcessRefreshLock } from '../lock/in-process-refresh-lock';
import { InProcessNoticeChannel } from '../notice/in-process-notice-channel';
import type { NoticeChannel } from '../notice/notice-channel';
import { DEFAULT_JIRA_RETRY, sleep } from '../express/jira-retry';
import { silentLogger } from '../logger';
import { MemoryTokenStore } from '../store/memory-token-store';
import { OAuthClient } from '../oauth/oauth-client';
import { DAY_MS, type TokenManagerOptions } from './options';
import { resolveOptions } from './resolve-options';
import { RecordAccess } from '../protocol/record-access';
import { RedisTokenStore } from '../redis/redis-token-store';
import { RedlockRefreshLock } from '../redis/redlock-refresh-lock';
import { RedisNoticeChannel } from '../redis/redis-notice-channel';
import { StoreLossWatch } from '../redis/store-loss-watch';
import { SharedClock } from './shared-clock';
import { quit } from '../redis/redis-connection';
import { type BuildSettings, type RedisClient, buildRedisClient, isRedisClient } from '../redis/redis-input';
import type { RefreshLock } from '../lock/refresh-lock';
import { TokenCipher, parseEncryptionKey } from '../store/token-cipher';
import { DefaultTokenManager, type TokenManager } from './token-manager';
import { registerTokenMetrics } from '../metrics/token-metrics';
import { TokenStats } from '../metrics/token-stats';
import { checkTopology } from './topology-checks';
import type { TokenStore } from '../store/token-store';

/**
 * Redis clients the manager builds itself fail fast, so a Redis outage is a 503, not a hang: each
 * command gives up after 2 s and 2 reconnections; on a Cluster, a command follows at most 8
 * redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, a failover), 250 ms apart, before it fails.
 * The vendor's own options win. A client passed in is used as it is.
 */
const FAIL_FAST: BuildSettings = Object.freeze({
  node: { commandTimeout: 2_000, maxRetriesPerRequest: 2, connectionName: 'jtr' },
  cluster: {
    maxRedirections: 8,
    retryDelayOnFailover: 250,
    retryDelayOnClusterDown: 250,
    retryDelayOnTryAgain: 250,
  },
});

/**
 * Creates a token manager. Options are checked here, once.
 * @throws TypeError naming the option that is missing or wrong.
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const o = resolveOptions(options, silentLogger);
  const logger = o.logger;
  const shared = checkTopology(o);
  const cipher = makeCipher(o.encryptionKey, shared);
  const stats = new TokenStats();
  const registry = o.registry ?? new Registry();
  // Throws (before any connection opens) if the registry already holds these metrics.
  const observer = registerTokenMetrics(registry, stats);

  // Nothing may throw below this line: it opens connections.
  const owned: Array<() => Promise<unknown>> = [];
  let redis: RedisClient | undefined;
  if (o.redis === undefined || isRedisClient(o.redis)) {
    redis = o.redis;
  } else {
    const client = buildRedisClient(o.redis, FAIL_FAST);
    client.on('error', (error: Error) =>
      logger.warn({ event: 'redis_error', err: error.message }, 'Redis connection error'),
    );
    redis = client;
    owned.push(() => quit(client));
  }
  const store: TokenStore =
    o.store ??
    (redis
      ? new RedisTokenStore({
          redis,
          keyPrefix: o.keyPrefix,
          logger,
          replicasToAck: o.replicasToAck,
          replicaAckTimeoutMs: o.replicaAckTimeoutMs,
        })
      : new MemoryTokenStore({ logger }));
  const lock: RefreshLock =
    o.lock ??
    (redis
      ? new RedlockRefreshLock({ redis, keyPrefix: o.keyPrefix, lockTtlMs: o.lockTtlMs, logger })
      : new InProcessRefreshLock());
  const notices: NoticeChannel =
    o.notices ??
    (redis
      ? new RedisNoticeChannel({ redis, keyPrefix: o.keyPrefix, logger })
      : new InProcessNoticeChannel({ logger }));
  // Closed in this order: the loss watch, the store (its index upkeep), the channel's subscriber,
  // the lock, then our own client.
  if (!o.lock) owned.unshift(() => lock.close());
  if (!o.notices) owned.unshift(() => notices.close());
  if (!o.store && store.close) owned.unshift(() => store.close!());
  // Invariant 14: shared deadlines and expiries are read on the store's clock, not this process's.
  const clock = new SharedClock({
    local: o.now,
    source: store.time ? () => store.time!() : undefined,
    intervalMs: o.clockSyncIntervalMs,
    skewWarningMs: o.clockSkewWarningMs,
    logger,
  });
  clock.start();
  owned.unshift(async () => clock.close());
  if (redis && !o.store) {
    // A Redis that lost the records must not pass for users who never connected: say so.
    const watch = new StoreLossWatch({
      redis,
      keyPrefix: o.keyPrefix,
      logger,
      intervalMs: o.recoveryIntervalMs,
      onLoss: () => (stats.storeLosses += 1),
    });
    watch.start();
    owned.unshift(() => watch.close());
  }

  return new DefaultTokenManager({
    records: new RecordAccess(store, cipher, logger, () => (stats.storeReads += 1)),
    store,
    lock,
    notices,
    oauth: new OAuthClient({
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      tokenUrl: o.tokenUrl,
      encoding: o.tokenRequestEncoding,
      requestTimeoutMs: o.requestTimeoutMs,
      fetch: o.fetch,
    }),
    oauthApp: Object.freeze({ clientId: o.clientId, apiBaseUrl: o.apiBaseUrl }),
    logger,
    stats,
    observer,
    registry,
    now: clock.now,
    clockReady: () => clock.ready(),
    origin: randomBytes(8).toString('base64url'),
    fetch: o.fetch,
    settings: {
      expiryMarginMs: o.expiryMarginMs,
      leaseMs: o.leaseMs,
      leewayMs: o.leewayMs,
      inDoubtSafetyMs: o.inDoubtSafetyMs,
      requestTimeoutMs: o.requestTimeoutMs,
      tokenRequestAttempts: o.tokenRequestAttempts,
      recoveryIntervalMs: o.recoveryIntervalMs,
      refreshAheadMs: o.refreshAheadMs,
      inDoubtRetryMs: o.inDoubtRetryMs,
      commitHorizonMs: o.commitHorizonMs,
      keepAliveAfterMs: o.keepAliveAfterDays === false ? 0 : o.keepAliveAfterDays * DAY_MS,
      familyLifetimeMs: o.familyLifetimeDays * DAY_MS,
      reconnectNoticeMs: o.reconnectNoticeDays * DAY_MS,
      waitTimeoutMs: o.waitTimeoutMs,
      rideThroughFailures: o.rideThroughFailures,
      noticeTimeoutMs: o.noticeTimeoutMs,
    },
    keepAlive: {
      intervalMs: o.keepAliveIntervalMs,
      ratePerSecond: o.keepAliveRatePerSecond,
      batchSize: o.keepAliveBatchSize,
    },
    pacer: { now: () => performance.now(), sleep },
    jira: {
      apiBaseUrl: o.apiBaseUrl,
      apiTimeoutMs: o.apiTimeoutMs,
      fetch: o.fetch,
      retry: { ...DEFAULT_JIRA_RETRY, maxRetries: o.apiMaxRetries, maxDelayMs: o.apiRetryMaxDelayMs },
      sleep,
      now: o.now,
      onRetry: (status) => {
        stats.apiRetries[status] = (stats.apiRetries[status] ?? 0) + 1;
      },
    },
    closeResources: async () => {
      for (const close of owned) await close();
    },
  });
}

function makeCipher(encryptionKey: string | string[] | undefined, shared: boolean): TokenCipher {
  if (encryptionKey === undefined) {
    if (shared)
      throw new TypeError('encryptionKey is required with a shared store (base64 of 32 random bytes)');
    // In-process records die with the process, so a per-process random key loses nothing.
    return TokenCipher.ephemeral();
  }
  const list = Array.isArray(encryptionKey) ? encryptionKey : [encryptionKey];
  if (list.length === 0) throw new TypeError('encryptionKey must not be an empty list');
  return new TokenCipher(
    list.map((key, i) => parseEncryptionKey(key, list.length > 1 ? `encryptionKey[${i}]` : 'encryptionKey')),
  );
}
