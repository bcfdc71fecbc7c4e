// The embedded default lock: per-user mutual exclusion inside one process only.

import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import { assertLockCall } from './lock-call-guard';
import type { RefreshLock } from './refresh-lock';
import type { UserRef } from '../types';
import { userId } from '../store/user-key';

/**
 * A {@link RefreshLock} for a single process: a set of held users. It excludes nothing across
 * processes (`distributed` is false), so pairing it with a shared store is a configuration error.
 * The signal it hands to `fn` never aborts: nothing can take a lock that lives in this process's
 * memory away from its holder. Its notices travel on an `InProcessNoticeChannel`.
 */
export class InProcessRefreshLock implements RefreshLock {
  readonly distributed = false;
  private readonly held = new Set<string>();
  private closed = false;

  /** @inheritDoc */
  async tryWithLock<T>(
    user: UserRef,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertLockCall('tryWithLock', user, fn);
    this.assertOpen();
    return this.tryHolding(userId(user), fn);
  }

  /** @inheritDoc */
  async tryWithJobLock<T>(
    job: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertLockCall('tryWithJobLock', job, fn);
    this.assertOpen();
    // `:` never occurs in a user id (base64url), so a job cannot take a user's lock.
    return this.tryHolding(`job:${job}`, fn);
  }

  private async tryHolding<T>(
    id: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    // Checked and taken before the first await, so two calls in the same tick cannot both win.
    if (this.held.has(id)) return { acquired: false };
    this.held.add(id);
    try {
      return { acquired: true, value: await fn(new AbortController().signal) };
    } finally {
      this.held.delete(id);
    }
  }

  /** Refuses new work from now on. Running holders finish normally. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closed)
      throw new LockUnavailableError(
        'The in-process refresh lock is closed',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
      );
  }
}
