// Holding a redlock lock while its holder runs: extension before expiry, the abort once it is lost,
// and a release that never throws.

import { ExecutionError, type Lock, type Redlock, ResourceLockedError } from '@sesamecare-oss/redlock';
import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';

/** Who holds a lock, for log lines: a user's identifiers, or a job's name. */
export type LockSubject = { clientKey: string; accountId: string } | { job: string };

/** How a held lock is kept: its time to live, and how much of it is left when it is extended. */
export interface LockHoldSettings {
  lockTtlMs: number;
  extensionThresholdMs: number;
  logger: Logger;
}

/** A lock being held: the holder's signal, and `stop()`, which ends the extending and returns the lock to release. */
export interface LockHold {
  signal: AbortSignal;
  stop(): Lock;
}

/**
 * Extends the lock while its holder runs, and aborts the holder's signal once the lock is lost:
 * another holder has the key, or its expiry came before any extension succeeded. (Redlock's
 * `using` does the extending too, but retries a failed extension in a tight loop and lets a
 * failed release replace the routine's own result or error; this does neither.)
 */
export function holdLock(
  redlock: Redlock,
  initial: Lock,
  subject: LockSubject,
  settings: LockHoldSettings,
): LockHold {
  const { lockTtlMs, extensionThresholdMs, logger } = settings;
  const controller = new AbortController();
  const retryDelayMs = Math.max(10, Math.floor(extensionThresholdMs / 5));
  let lock = initial;
  let stopped = false;
  let extendTimer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;

  const done = (): boolean => stopped || controller.signal.aborted;
  const lose = (reason: string, cause?: unknown): void => {
    if (done()) return;
    clearTimeout(extendTimer);
    clearTimeout(expiryTimer);
    logger.warn({ ...subject, err: cause }, `Lost the refresh lock: ${reason}`);
    controller.abort(
      new LockUnavailableError(
        `The refresh lock was lost: ${reason}`,
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        cause,
      ),
    );
  };
  const armExpiry = (): void => {
    clearTimeout(expiryTimer);
    // Fires even while an extension hangs (a client queueing commands offline): past the lock's
    // expiry, exclusion is no longer certain, whatever Redis eventually answers.
    expiryTimer = setTimeout(
      () => lose('it expired before it could be extended'),
      lock.expiration - Date.now(),
    );
  };
  const extend = async (): Promise<void> => {
    try {
      const extended = await redlock.extend(lock, lockTtlMs);
      if (done()) return;
      lock = extended;
      armExpiry();
      extendTimer = setTimeout(extend, lock.expiration - Date.now() - extensionThresholdMs);
    } catch (error) {
      if (done()) return;
      if (await lockedByOther(error)) return lose('another holder has it', error);
      if (lock.expiration <= Date.now()) return lose('it expired before it could be extended', error);
      extendTimer = setTimeout(extend, retryDelayMs);
    }
  };

  armExpiry();
  extendTimer = setTimeout(extend, lock.expiration - Date.now() - extensionThresholdMs);
  return {
    signal: controller.signal,
    stop: () => {
      stopped = true;
      clearTimeout(extendTimer);
      clearTimeout(expiryTimer);
      return lock;
    },
  };
}

/** Never throws: a lock that cannot be released expires by itself within its time to live. */
export async function releaseLock(
  redlock: Redlock,
  lock: Lock,
  signal: AbortSignal,
  subject: LockSubject,
  logger: Logger,
): Promise<void> {
  try {
    await redlock.release(lock);
  } catch (error) {
    // After a loss the failure is expected (and must not delete the new holder's key, nor does it).
    logger[signal.aborted ? 'debug' : 'warn'](
      { ...subject, err: error },
      'Could not release the refresh lock; it expires by itself',
    );
  }
}

/**
 * True when a redlock error means "the key is held by someone else" on every vote; any other
 * failure (connection refused, timeout, script error) is Redis being unavailable.
 */
export async function lockedByOther(error: unknown): Promise<boolean> {
  if (!(error instanceof ExecutionError) || error.attempts.length === 0) return false;
  for (const attempt of error.attempts) {
    const { votesAgainst } = await attempt;
    if (votesAgainst.size === 0) return false;
    for (const vote of votesAgainst.values()) if (!(vote instanceof ResourceLockedError)) return false;
  }
  return true;
}
