// The rate limits of the consent routes: one limiter per route, each counting per (tenant, user),
// in Redis when the app has Redis (so a limit holds across processes), else in memory.

import type { Redis } from 'ioredis';
import type { AppConfig } from './config';
import { MemoryRateLimitStore } from './memory-rate-limit-store';
import { RateLimiter } from './rate-limiter';
import { RedisRateLimitStore } from './redis-rate-limit-store';

/** The limited routes: `POST /jira/launch`, `POST /jira/connect`, `GET /jira/callback`. */
export interface ConsentRateLimits {
  launch: RateLimiter;
  connect: RateLimiter;
  callback: RateLimiter;
}

/** The three limiters, with `config.rateLimit`'s limit and window. */
export function consentRateLimits(
  config: Pick<AppConfig, 'rateLimit' | 'keyPrefix'>,
  redis: Redis | undefined,
  now: () => number,
): ConsentRateLimits {
  const limiter = (name: keyof ConsentRateLimits): RateLimiter =>
    new RateLimiter({
      ...config.rateLimit,
      now,
      store: redis
        ? new RedisRateLimitStore({ redis, keyPrefix: config.keyPrefix, name })
        : new MemoryRateLimitStore(),
    });
  return { launch: limiter('launch'), connect: limiter('connect'), callback: limiter('callback') };
}
