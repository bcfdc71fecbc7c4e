// The locking seam: one refresher per user, and waiters that wake on a notice, not on polling.

import type { UserRef } from '../types';

/** A job name for {@link RefreshLock.tryWithJobLock}: it becomes part of a lock key. */
export function assertJobName(job: unknown): asserts job is string {
  if (typeof job !== 'string' || !/^[a-z][a-z-]{0,31}$/.test(job)) {
    throw new TypeError('job must be 1-32 lowercase letters and dashes');
  }
}

/**
 * What a notice says happened to a user's record. Notices never carry tokens.
 * `tenant_purged` concerns every user of `user.clientKey` (its `accountId` is empty).
 */
export type NoticeKind = 'rotated' | 'invalidated' | 'tenant_purged';

export interface Notice {
  user: UserRef;
  kind: NoticeKind;
  /**
   * Who published it (an opaque id of at most 64 characters), so a publisher can ignore its own
   * notices: it has already updated its own cache.
   */
  origin?: string;
}

/**
 * A per-user mutual exclusion with notices. Implementations: `RedlockRefreshLock` (Redis,
 * cluster-wide, one subscriber connection per process) and `InProcessRefreshLock` (one process).
 */
export interface RefreshLock {
  /** Whether the lock excludes other processes (a shared store needs one that does). */
  readonly distributed: boolean;
  /**
   * Runs `fn` holding the user's lock and returns its result, or returns `{ acquired: false }`
   * at once when another holder has it (no retry storm: the caller waits for a notice instead).
   * `signal` aborts when the lock was lost (its extension failed).
   */
  tryWithLock<T>(
    user: UserRef,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /**
   * Like {@link tryWithLock}, for a cluster-wide job rather than a user: runs `fn` holding the
   * lock named `job` (lowercase letters and dashes), or returns `{ acquired: false }` at once when
   * another holder has it. The keep-alive sweeper uses it so that one process sweeps at a time.
   * Optional: without it every process sweeps, which the per-user protocol keeps correct.
   */
  tryWithJobLock?<T>(
    job: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /**
   * Resolves with the next notice for the user, or `null` after `ms`. Callers register the wait
   * first, then re-read the record, then await, so no notice published in between is missed.
   */
  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void };
  /** Resolves once the lock can wake waiters (e.g. its notice subscription is confirmed). */
  ready?(): Promise<void>;
  /** Tells every process (including this one) what happened to the user's record. */
  publish(notice: Notice): Promise<void>;
  /** Calls `listener` for every notice this process receives, e.g. to drop a cached token. */
  onNotice(listener: (notice: Notice) => void): () => void;
  /** Closes every connection and timer it opened (not a client it was given). */
  close(): Promise<void>;
}
