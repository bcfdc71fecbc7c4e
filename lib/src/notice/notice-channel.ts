// The notice seam: waiters wake when another holder changed a record, instead of polling for it.

import type { Notice } from './notice';
import type { UserRef } from '../types';

/**
 * Tells every process what happened to a user's record, and wakes the waiters of this one.
 * Implementations: `RedisNoticeChannel` (Redis pub/sub, one subscriber connection per process)
 * and `InProcessNoticeChannel` (one process). It pairs with a `RefreshLock` of the same
 * reach: a distributed lock needs a distributed channel, and an in-process lock an in-process one.
 */
export interface NoticeChannel {
  /** Whether notices reach other processes (a distributed lock needs a channel that does). */
  readonly distributed: boolean;
  /** Tells every process (including this one) what happened to the user's record. */
  publish(notice: Notice): Promise<void>;
  /**
   * Resolves with the next notice for the user, or `null` after `ms`. Callers register the wait
   * first, then re-read the record, then await, so no notice published in between is missed.
   */
  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void };
  /** Calls `listener` for every notice this process receives, e.g. to drop a cached token. */
  onNotice(listener: (notice: Notice) => void): () => void;
  /** Resolves once the channel can wake waiters (e.g. its subscription is confirmed). */
  ready?(): Promise<void>;
  /**
   * Resolves pending waits with `null` and closes every connection and timer it opened (not a
   * client it was given).
   */
  close(): Promise<void>;
}
