// The argument checks every RefreshLock runs before it touches a lock, so a bad call is the same
// TypeError whichever lock is configured.

import type { UserRef } from '../types';
import { assertUserRef } from '../store/user-key';

/** A job name for `RefreshLock.tryWithJobLock`: it becomes part of a lock key. */
export function assertJobName(job: unknown): asserts job is string {
  if (typeof job !== 'string' || !/^[a-z][a-z-]{0,31}$/.test(job)) {
    throw new TypeError('job must be 1-32 lowercase letters and dashes');
  }
}

/**
 * Checks a call of `tryWithLock(user, fn)` or `tryWithJobLock(job, fn)`: a well-formed user or job
 * name, and a function to run.
 * @throws TypeError naming the malformed argument.
 */
export function assertLockCall(
  method: 'tryWithLock' | 'tryWithJobLock',
  subject: UserRef | string,
  fn: unknown,
): void {
  if (method === 'tryWithLock') assertUserRef(subject);
  else assertJobName(subject);
  if (typeof fn !== 'function') {
    throw new TypeError(`${method}(${method === 'tryWithLock' ? 'user' : 'job'}, fn): fn must be a function`);
  }
}
