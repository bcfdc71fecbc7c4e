// `this project`: the token manager on the shared Redis (RedisTokenStore, redlock, pub/sub
// notices), with the library's defaults, refresh-ahead included. With `pollIntervalMs` its
// waiters poll instead of listening (part 2's comparison).

import { type TokenManager, RedisNoticeChannel, createTokenManager } from 'jira-token-rotation';
import type { TokenResponseBody } from '../../sim';
import { connectRedis } from '../topology/redis-address';
import { PollingNoticeChannel } from './polling-notice-channel';
import { RotationTimeline } from './rotation-timeline';
import type { ResolveUser, Strategy, StrategyContext, StrategyName } from './types';

/** `ready()` arrives with the lead's start-up change; older managers simply lack it. */
async function whenReady(manager: TokenManager): Promise<void> {
  const ready = (manager as Partial<{ ready(): Promise<void> }>).ready;
  if (typeof ready === 'function') await ready.call(manager);
}

export function thisProjectStrategy(
  name: StrategyName,
  ctx: StrategyContext,
  pollIntervalMs?: number,
): Strategy {
  // A URL the manager opens itself; a Cluster or Sentinel client is ours to close.
  const redis = ctx.redis ? connectRedis(ctx.redis, 'jtr-bench') : ctx.redisUrl;
  const notices =
    pollIntervalMs === undefined
      ? undefined
      : new PollingNoticeChannel(new RedisNoticeChannel({ redis, keyPrefix: ctx.keyPrefix }));
  const timeline = new RotationTimeline();
  const manager = createTokenManager({
    logger: timeline.logger,
    clientId: ctx.clientId,
    clientSecret: ctx.clientSecret,
    tokenUrl: ctx.tokenUrl,
    redis,
    notices,
    keyPrefix: ctx.keyPrefix,
    encryptionKey: ctx.encryptionKey,
    now: ctx.now,
    // The simulator's clock is the world's here, which Redis TIME knows nothing of.
    clockSyncIntervalMs: 0,
    ...(ctx.sweeper ? {} : { recoveryIntervalMs: 0 }),
    ...(pollIntervalMs === undefined ? {} : { noticeTimeoutMs: pollIntervalMs }),
  });
  return {
    name,
    seed: (user, tokens: TokenResponseBody) => manager.save(user, tokens),
    // The library's own middleware, untouched: the hot path measures exactly what an app mounts.
    middleware: (resolveUser: ResolveUser) => manager.middleware({ resolveUser }),
    async ready() {
      await whenReady(manager);
      await manager.status({ clientKey: 'bench-ready', accountId: 'ready' });
    },
    idle: () => manager.whenIdle(),
    rotationMarks: (since) => timeline.since(since),
    stats: () => ({ ...manager.stats() }),
    async close() {
      await manager.close();
      await notices?.close();
      if (typeof redis !== 'string') await redis.quit().catch(() => redis.disconnect());
    },
  };
}
