// What a process should do with a record it just read: use it, refresh it, recover it, wait, or
// give up. A pure function, so the protocol's decisions are tested without any I/O.

import type { TokenRecord, TokenSecrets } from '../types';

export type Assessment =
  /**
   * The access token is usable. `recover` asks for a background recovery of an in-doubt chain;
   * `refreshAhead` for a background rotation because the token is inside the refresh-ahead window.
   */
  | { action: 'use'; recover: boolean; refreshAhead: boolean }
  /** Active, but the access token is expired, about to, or was rejected by Jira. */
  | { action: 'refresh' }
  /** The chain is in doubt (or its holder died) and the access token cannot be used. */
  | { action: 'recover' }
  /**
   * In doubt, unusable, and a token request for it failed less than `inDoubtRetryMs` ago: no
   * request retries before `retryAfterMs` from now, so a failing endpoint is not hammered; the
   * sweeper still retries. With `commitHorizon`, the last request may still reach the server
   * until then (`inDoubt.retryNotBefore`): nobody retries before it, not even the sweeper.
   * `rideThrough`: the retry comes inside the request's wait budget, so it waits for the notice
   * of the recovery (or makes it itself once allowed) instead of answering 503 at once.
   */
  | { action: 'backoff'; retryAfterMs: number; commitHorizon?: true; rideThrough?: true }
  /** Another holder's lease is alive: wait for its notice. */
  | { action: 'wait' }
  /** The chain is gone; only a new consent helps. */
  | { action: 'reauthorize' };

export interface AssessmentInput {
  record: TokenRecord;
  /** Decrypted secrets; absent for a `reauthorization_required` record, which is never decrypted. */
  secrets?: TokenSecrets;
  /** An access token Jira just answered 401 to. */
  rejected?: string;
  now: number;
  expiryMarginMs: number;
  /** The refresh-ahead window; 0 or absent disables it. */
  refreshAheadMs?: number;
  /** Minimum time between token requests for an in-doubt chain made on behalf of requests. */
  inDoubtRetryMs?: number;
  /** What is left of the request's wait budget; absent for the holder and background work. */
  waitBudgetMs?: number;
}

/**
 * The effective expiry margin: the configured one, but never more than a fifth of the token's
 * lifetime (invariant 10), so a short-lived token is not refreshed on every request.
 */
export function effectiveMargin(
  record: Pick<TokenRecord, 'expiresAt' | 'lastRotatedAt'>,
  marginMs: number,
): number {
  return Math.min(marginMs, Math.max(0, (record.expiresAt - record.lastRotatedAt) / 5));
}

/**
 * Whether a still-fresh token is inside the refresh-ahead window: at most `refreshAheadMs` before
 * expiry, and never more than a fifth of its lifetime (invariant 10), so a short-lived token does
 * not rotate on every request.
 */
export function inRefreshAheadWindow(
  record: Pick<TokenRecord, 'expiresAt' | 'lastRotatedAt'>,
  now: number,
  refreshAheadMs: number,
): boolean {
  return refreshAheadMs > 0 && record.expiresAt - effectiveMargin(record, refreshAheadMs) <= now;
}

/** Whether an access token expiring at `expiresAt` is still fresh at `now`. */
export function isFresh(
  record: Pick<TokenRecord, 'expiresAt' | 'lastRotatedAt'>,
  now: number,
  marginMs: number,
): boolean {
  return record.expiresAt - effectiveMargin(record, marginMs) > now;
}

export function assessRecord(input: AssessmentInput): Assessment {
  const { record, secrets, rejected, now, expiryMarginMs, refreshAheadMs = 0, inDoubtRetryMs = 0 } = input;
  // A retry that comes before the request's wait budget runs out is waited for, not answered 503.
  const backoff = (retryAfterMs: number, commitHorizon?: true): Assessment => ({
    action: 'backoff',
    retryAfterMs,
    ...(commitHorizon ? { commitHorizon } : {}),
    ...(input.waitBudgetMs !== undefined && retryAfterMs <= input.waitBudgetMs ? { rideThrough: true } : {}),
  });
  if (record.state === 'reauthorization_required' || !secrets) return { action: 'reauthorize' };
  const usable = secrets.accessToken !== rejected && isFresh(record, now, expiryMarginMs);
  switch (record.state) {
    case 'active':
      if (!usable) return { action: 'refresh' };
      return {
        action: 'use',
        recover: false,
        refreshAhead: inRefreshAheadWindow(record, now, refreshAheadMs),
      };
    case 'rotating': {
      // A live lease means someone is rotating already: nothing to start in the background.
      const leaseAlive = record.lease !== undefined && record.lease.until > now;
      if (usable) return { action: 'use', recover: !leaseAlive, refreshAhead: false };
      return leaseAlive ? { action: 'wait' } : { action: 'recover' };
    }
    case 'in_doubt': {
      // Before the commit horizon the same refresh token must not be sent again (by a request,
      // a sweeper, or a refresh-ahead): a usable access token is served, and nothing recovers.
      const horizon = record.inDoubt?.retryNotBefore;
      if (horizon !== undefined && horizon > now) {
        if (usable) return { action: 'use', recover: false, refreshAhead: false };
        return backoff(horizon - now, true);
      }
      if (usable) return { action: 'use', recover: true, refreshAhead: false };
      const nextAttemptAt = (record.inDoubt?.lastAttemptAt ?? -Infinity) + inDoubtRetryMs;
      return nextAttemptAt > now ? backoff(nextAttemptAt - now) : { action: 'recover' };
    }
  }
}
