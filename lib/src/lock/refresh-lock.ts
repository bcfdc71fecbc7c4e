// The locking seam: one refresher per user across every process that shares the records.

import type { UserRef } from '../types';

/**
 * A per-user mutual exclusion. Implementations: `RedlockRefreshLock` (Redis, cluster-wide) and
 * `InProcessRefreshLock` (one process). Waiters do not poll it: they wait on a `NoticeChannel`
 * of the same reach, which the holder's outcome is published on.
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
  /** Closes every connection and timer it opened (not a client it was given). */
  close(): Promise<void>;
}
