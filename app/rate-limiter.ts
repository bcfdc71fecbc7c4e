// Per-(tenant, user) rate limits on the consent routes. A fixed window: each key may be hit `limit`
// times per `windowMs`; windows are numbered from the epoch by the injected clock, so every
// process sharing a store (and a clock, to the second) counts into the same window.

import type { Request, RequestHandler, Response } from 'express';
import type { UserRef } from 'jira-token-rotation';

/** Where hits are counted. */
export interface RateLimitStore {
  /**
   * Counts one hit of `key` in the window starting at `windowStart` (epoch ms), which the store
   * may forget after `windowStart + windowMs`.
   * @returns the number of hits of `key` in that window, this one included.
   */
  hit(key: string, windowStart: number, windowMs: number): Promise<number>;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Hits allowed per key and window, at least 1. */
  limit: number;
  /** The window, ms, at least 1 000. */
  windowMs: number;
  store: RateLimitStore;
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** The outcome of one hit. */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts hits per key and says whether each is allowed. */
export class RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly store: RateLimitStore;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1)
      throw new TypeError('RateLimiter: limit must be an integer of at least 1');
    if (!Number.isSafeInteger(options.windowMs) || options.windowMs < 1_000)
      throw new TypeError('RateLimiter: windowMs must be an integer of at least 1000');
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  /** One hit of `key`; refused ones count too, so hammering does not shorten the wait. */
  async hit(key: string): Promise<RateLimitDecision> {
    const now = this.now();
    const windowStart = now - (now % this.windowMs);
    const count = await this.store.hit(key, windowStart, this.windowMs);
    if (count <= this.limit) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((windowStart + this.windowMs - now) / 1000)),
    };
  }
}

/**
 * The key of a request: the Connect user it acts for (tenant and account, encoded so that no two
 * users share a key), or, when it carries no valid user, its client address.
 */
export function rateLimitKey(user: UserRef | null, req: Request): string {
  return user
    ? `user:${JSON.stringify([user.clientKey, user.accountId])}`
    : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * Hits `limiter` for the request's key and answers 429 with `Retry-After` when it is over.
 * @returns whether the request may go on.
 */
export async function withinRateLimit(
  limiter: RateLimiter,
  user: UserRef | null,
  req: Request,
  res: Response,
): Promise<boolean> {
  const decision = await limiter.hit(rateLimitKey(user, req));
  if (decision.allowed) return true;
  res.setHeader('Retry-After', String(decision.retryAfterSeconds));
  res.status(429).type('text').send('Too Many Requests');
  return false;
}

/** A middleware form of {@link withinRateLimit}, for routes whose user is known before the handler. */
export function rateLimited(limiter: RateLimiter, userOf: (req: Request) => UserRef | null): RequestHandler {
  return (req, res, next) => {
    withinRateLimit(limiter, userOf(req), req, res).then((ok) => ok && next(), next);
  };
}
