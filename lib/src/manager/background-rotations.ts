// Rotations nobody waits for (refresh-ahead, in-doubt recovery, keep-alive): one per user at a
// time in this process, under the user's lock, never failing a request.

import { errorName, who } from '../protocol/log-context';
import type { BackgroundOutcome, BackgroundWork } from '../protocol/rotation-result';
import type { Rotator } from '../protocol/rotator';
import type { UserRef } from '../types';
import { userId } from '../store/user-key';
import type { AccessTokenCache } from './access-token-cache';
import type { TokenManagerDeps } from './token-manager-deps';

/** The background rotations of this process, by user. */
export class BackgroundRotations {
  private readonly running = new Map<string, Promise<BackgroundOutcome>>();

  constructor(
    private readonly deps: Pick<TokenManagerDeps, 'lock' | 'stats' | 'logger'>,
    private readonly rotator: Rotator,
    private readonly cache: AccessTokenCache,
    private readonly closed: () => boolean,
  ) {}

  /** Starts `work` for the user unless there is none or the manager is closing; does not wait. */
  start(user: UserRef, work: BackgroundWork | undefined): void {
    if (work && !this.closed()) void this.run(user, work);
  }

  /**
   * Recovers an in-doubt chain, or rotates ahead of expiry, under the user's lock; one such job
   * per user at a time in this process. Never throws: a request must not fail for work it did
   * not wait for. Failures are counted and logged (the rotator logs state changes once).
   */
  run(user: UserRef, work: BackgroundWork): Promise<BackgroundOutcome> {
    const id = userId(user);
    let running = this.running.get(id);
    if (!running) {
      const { stats, logger } = this.deps;
      if (work === 'refresh_ahead') stats.refreshAheadStarted += 1;
      const epoch = this.cache.beginLoad(id);
      running = this.deps.lock
        .tryWithLock(user, (signal) => this.rotator.runUnderLock(user, { background: work }, signal))
        .then((attempt) => {
          if (!attempt.acquired || attempt.value.kind !== 'token') return 'unchanged' as const;
          // The cache learns the new token, so later hits stop asking for refresh-ahead.
          this.cache.set(id, epoch, attempt.value.token);
          return attempt.value.rotated ? ('rotated' as const) : ('unchanged' as const);
        })
        .catch((error: unknown) => {
          stats.backgroundFailures += 1;
          logger.debug(
            { event: 'background_rotation_failed', work, ...who(user), err: errorName(error) },
            'A background rotation failed',
          );
          return 'failed' as const;
        })
        .finally(() => {
          this.cache.endLoad(id);
          this.running.delete(id);
        });
      this.running.set(id, running);
    }
    return running;
  }

  /** The rotations running now (each settles, never rejects). */
  pending(): Promise<BackgroundOutcome>[] {
    return [...this.running.values()];
  }
}
