// What a process should do with a record it just read: use it, refresh it, recover it, wait, or
// give up. A pure function, so the protocol's decisions are tested without any I/O.

import type { TokenRecord, TokenSecrets } from './types';

export type Assessment =
  /** The access token is usable; `recover` asks for a background recovery of an in-doubt chain. */
  | { action: 'use'; recover: boolean }
  /** Active, but the access token is expired, about to, or was rejected by Jira. */
  | { action: 'refresh' }
  /** The chain is in doubt (or its holder died) and the access token cannot be used. */
  | { action: 'recover' }
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

/** Whether an access token expiring at `expiresAt` is still fresh at `now`. */
export function isFresh(
  record: Pick<TokenRecord, 'expiresAt' | 'lastRotatedAt'>,
  now: number,
  marginMs: number,
): boolean {
  return record.expiresAt - effectiveMargin(record, marginMs) > now;
}

export function assessRecord({
  record,
  secrets,
  rejected,
  now,
  expiryMarginMs,
}: AssessmentInput): Assessment {
  if (record.state === 'reauthorization_required' || !secrets) return { action: 'reauthorize' };
  const usable = secrets.accessToken !== rejected && isFresh(record, now, expiryMarginMs);
  switch (record.state) {
    case 'active':
      return usable ? { action: 'use', recover: false } : { action: 'refresh' };
    case 'rotating': {
      const leaseAlive = record.lease !== undefined && record.lease.until > now;
      if (usable) return { action: 'use', recover: !leaseAlive };
      return leaseAlive ? { action: 'wait' } : { action: 'recover' };
    }
    case 'in_doubt':
      return usable ? { action: 'use', recover: true } : { action: 'recover' };
  }
}
