// What a rotation under the lock achieved, and what a request leaves to run in the background:
// the vocabulary the rotator and the manager share.

import { UpstreamUnavailableError } from '../errors';
import type { Assessment } from './record-assessment';
import type { AccessToken } from '../types';

/** Work a request leaves to run in the background, through the same locked protocol. */
export type BackgroundWork = 'recover' | 'refresh_ahead' | 'keep_alive';

/**
 * How background work ended: it rotated the chain; it left it unchanged (nothing to do, or
 * another holder had the lock); or it failed (logged and counted, never thrown).
 */
export type BackgroundOutcome = 'rotated' | 'unchanged' | 'failed';

/** What the lock holder achieved. */
export type RotationResult =
  /**
   * A usable token; whether this call rotated to get it; and what, if anything, should still run
   * in the background.
   */
  | {
      kind: 'token';
      token: AccessToken & { lastRotatedAt: number };
      rotated: boolean;
      background?: BackgroundWork;
    }
  /** Someone else's lease is alive or won the CAS: wait for its notice and re-read. */
  | { kind: 'wait' }
  /** Background work only: there was nothing (left) to do. */
  | { kind: 'idle' };

/** What the caller of a rotation wants from it. */
export interface RotationIntent {
  /** An access token Jira answered 401 to: rotate only while the record still holds it. */
  rejected?: string;
  /**
   * Background work: `recover` only recovers an in-doubt chain and never rotates a healthy one
   * (the sweeper); `refresh_ahead` rotates a token inside the refresh-ahead window, or nothing if
   * another process did already; `keep_alive` rotates an active chain that is still idle for
   * longer than `keepAliveAfterMs`, and nothing else.
   */
  background?: BackgroundWork;
}

/** The background work an assessment calls for, if any. */
export function backgroundOf(assessment: Assessment): BackgroundWork | undefined {
  if (assessment.action !== 'use') return undefined;
  if (assessment.recover) return 'recover';
  return assessment.refreshAhead ? 'refresh_ahead' : undefined;
}

/** A Retry-After in whole seconds, at least 1, for a wait of `ms`. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The 503 of a token request that failed for this chain and may be retried soon: the endpoint
 * refused without rotating, or the chain is in doubt. `retryAfterMs` is when a retry may come at
 * the earliest; a request still inside its wait budget rides through it instead of answering.
 * `failedAt` (shared clock) is set when the record does not pace the next attempt itself (a
 * refusal that left the chain active): the request then paces its own by `inDoubtRetryMs`.
 */
export class RotationFailedError extends UpstreamUnavailableError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    readonly failedAt?: number,
  ) {
    super(message, retryAfterSeconds(retryAfterMs));
  }
}

/**
 * The 503 of a request whose chain is in doubt and being recovered: it met one whose last attempt
 * failed moments ago, or its own attempt left it so.
 */
export function inDoubtError(retryAfterMs: number): RotationFailedError {
  return new RotationFailedError(
    'The Jira token refresh did not complete; it is being recovered',
    retryAfterMs,
  );
}
