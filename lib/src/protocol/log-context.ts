// What the manager's log lines say about a user and an error: identifiers, never secrets.

import type { Logger } from '../logger';
import type { NoticeKind } from '../notice/notice';
import type { NoticeChannel } from '../notice/notice-channel';
import type { UserRef } from '../types';

/** Who a log line is about. Account ids are identifiers, not secrets. */
export function who(user: UserRef): { clientKey: string; accountId: string } {
  return { clientKey: user.clientKey, accountId: user.accountId };
}

/** An error as a log field: its name and message (ours never hold a secret), without the stack. */
export function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Logs, at debug, that a request or holder found another holder's lease alive and waits for it. */
export function logLeaseHeldElsewhere(logger: Logger, user: UserRef): void {
  logger.debug(
    { event: 'lease_held_elsewhere', ...who(user) },
    'Another holder owns the lease; waiting for it',
  );
}

/**
 * A request that waits for a recovery due within its wait budget instead of answering 503
 * (invariant 16); logged once per request.
 */
export function logRidingThrough(logger: Logger, user: UserRef, retryAfterMs: number): void {
  logger.debug(
    { event: 'riding_through', ...who(user), retryAfterMs },
    'A recovery is due within the wait budget; waiting for it instead of answering 503',
  );
}

/**
 * Publishes a notice, stamped with the publisher's origin. A failure is logged, not thrown:
 * waiters fall back to their bounded re-read, so a lost notice costs latency, not correctness.
 */
export async function publishNotice(
  deps: { notices: NoticeChannel; logger: Logger; origin: string },
  user: UserRef,
  kind: NoticeKind,
): Promise<void> {
  try {
    await deps.notices.publish({ user, kind, origin: deps.origin });
  } catch (error) {
    deps.logger.warn(
      { event: 'notice_failed', ...who(user), err: errorName(error) },
      'Could not publish a notice',
    );
  }
}
