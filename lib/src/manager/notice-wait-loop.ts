// Steps 3–8 of a request that found no fresh cached token: read, use, rotate under the lock, or
// wait for the holder's notice and read again, until a token, a verdict or the wait budget.

import { performance } from 'node:perf_hooks';
import {
  LockUnavailableError,
  NotConnectedError,
  ReauthorizationRequiredError,
  StoreUnavailableError,
} from '../errors';
import { logLeaseHeldElsewhere, logRidingThrough, who } from '../protocol/log-context';
import { type OpenRecord, tokenOf } from '../protocol/record-access';
import { assessRecord } from '../protocol/record-assessment';
import {
  type RotationResult,
  RotationFailedError,
  backgroundOf,
  inDoubtError,
} from '../protocol/rotation-result';
import type { Rotator } from '../protocol/rotator';
import type { AccessToken, UserRef } from '../types';
import type { AccessTokenCache } from './access-token-cache';
import type { BackgroundRotations } from './background-rotations';
import type { TokenManagerDeps } from './token-manager-deps';

/** A request's loop over the shared record, woken by notices rather than by polling. */
export class NoticeWaitLoop {
  constructor(
    private readonly deps: Pick<
      TokenManagerDeps,
      'records' | 'lock' | 'notices' | 'settings' | 'now' | 'logger' | 'observer'
    >,
    private readonly rotator: Rotator,
    private readonly cache: AccessTokenCache,
    private readonly background: BackgroundRotations,
  ) {}

  /** Steps 3–8 of the flow, looping until a token, a verdict, or the wait budget runs out. */
  async load(user: UserRef, id: string, rejected: string | undefined): Promise<AccessToken> {
    const { records, notices, settings, now } = this.deps;
    const epoch = this.cache.beginLoad(id);
    const giveUpAt = performance.now() + settings.waitTimeoutMs;
    let waitLogged = false;
    let ridingLogged = false;
    const ridingThrough = (retryAfterMs: number): void => {
      if (ridingLogged) return;
      ridingLogged = true;
      logRidingThrough(this.deps.logger, user, retryAfterMs);
    };
    // Set at the first wait for another holder; the whole wait is observed once, however it ends.
    let waitingSince: number | undefined;
    // This request's own token request failed: it leaves the next attempt to others (a waiter, the
    // sweeper) until `ownRetryAt` on the shared clock, and answers with `failed` if its budget ends.
    let failed: RotationFailedError | undefined;
    let ownRetryAt = -Infinity;
    const budgetLeft = (): number => giveUpAt - performance.now();
    try {
      for (;;) {
        const held = this.heldPair(user, rejected);
        if (held) return this.remember(id, epoch, held);
        // Register for the notice before reading, so a notice published in between is not missed.
        // A pair this process keeps (invariant 13) wakes the wait too: no notice can say so.
        const notice = this.rotator.pending.orKept(
          user,
          notices.waitForNotice(user, settings.noticeTimeoutMs),
        );
        try {
          const read = await records.read(user);
          if (!read) throw new NotConnectedError();
          const assessment = assessRecord({
            ...read,
            rejected,
            now: now(),
            expiryMarginMs: settings.expiryMarginMs,
            refreshAheadMs: settings.refreshAheadMs,
            inDoubtRetryMs: settings.inDoubtRetryMs,
            ...(settings.rideThroughFailures ? { waitBudgetMs: budgetLeft() } : {}),
          });
          if (assessment.action === 'reauthorize') throw new ReauthorizationRequiredError();
          // Step 8: a retry comes soon (the next recovery, or this request's own once the pacing
          // or the commit horizon has passed): ride through it while the budget lasts.
          if (assessment.action === 'backoff') {
            if (!assessment.rideThrough) throw inDoubtError(assessment.retryAfterMs);
            ridingThrough(assessment.retryAfterMs);
          }
          if (assessment.action === 'use') {
            this.background.start(user, backgroundOf(assessment));
            return this.remember(id, epoch, tokenOf(read.record, read.secrets!.accessToken));
          }
          if (assessment.action === 'wait' && !waitLogged) {
            waitLogged = true;
            logLeaseHeldElsewhere(this.deps.logger, user);
          }
          const paced = now() < ownRetryAt;
          if ((assessment.action === 'refresh' || assessment.action === 'recover') && !paced) {
            const attempt = await this.attempt(user, rejected, read);
            if (attempt instanceof RotationFailedError) {
              // Invariant 16: at most one token request per inDoubtRetryMs from this request.
              const pause = Math.max(attempt.retryAfterMs, settings.inDoubtRetryMs);
              if (!settings.rideThroughFailures || pause > budgetLeft()) throw attempt;
              failed = attempt;
              ridingThrough(pause);
              // An in-doubt chain is paced by its record; a refusal that left it active, from here.
              if (attempt.failedAt !== undefined) ownRetryAt = attempt.failedAt + settings.inDoubtRetryMs;
              continue;
            }
            if (attempt.acquired && attempt.value.kind === 'token')
              return this.fromRotation(user, id, epoch, attempt.value);
            if (!attempt.acquired && read.record.state === 'rotating' && assessment.action === 'recover') {
              // The holder's lease ran out (it died), but its lock key lingers. A lease is never
              // taken over outside the lock (invariant 14): the key lives at most lockTtlMs, since
              // only a live holder extends it, so this waiter contends again at its next re-read.
              this.deps.logger.debug(
                { event: 'lease_expired_lock_held', ...who(user) },
                "The holder's lease ran out but its lock is still held; contending again shortly",
              );
            }
          }
          if (budgetLeft() <= 0) {
            if (failed) throw failed;
            throw new LockUnavailableError(
              'Timed out waiting for another process to refresh the Jira token',
              1,
            );
          }
          waitingSince ??= performance.now();
          await notice.promise;
        } catch (error) {
          // The store failed under a pair this process rotated and keeps until the store takes it.
          const kept = error instanceof StoreUnavailableError && this.heldPair(user, rejected);
          if (kept) return this.remember(id, epoch, kept);
          throw error;
        } finally {
          notice.cancel();
        }
      }
    } finally {
      if (waitingSince !== undefined)
        this.deps.observer.lockWaited((performance.now() - waitingSince) / 1000);
      this.cache.endLoad(id);
    }
  }

  /**
   * Step 5: one rotation under the lock. A failed token request that may be retried soon comes
   * back as its error rather than thrown, so the caller can ride through it.
   */
  private async attempt(
    user: UserRef,
    rejected: string | undefined,
    read: OpenRecord,
  ): Promise<{ acquired: true; value: RotationResult } | { acquired: false } | RotationFailedError> {
    try {
      return await this.deps.lock.tryWithLock(user, (signal) =>
        this.rotator.runUnderLock(user, { rejected }, signal, read),
      );
    } catch (error) {
      if (error instanceof RotationFailedError) return error;
      throw error;
    }
  }

  /**
   * Invariant 13: a pair this process rotated but could not store yet, served from memory while
   * the store still shows the lease (or cannot be read at all). Other processes cannot see it.
   */
  private heldPair(
    user: UserRef,
    rejected: string | undefined,
  ): (AccessToken & { lastRotatedAt: number }) | undefined {
    return this.rotator.pending.tokenFor(user, rejected);
  }

  private fromRotation(
    user: UserRef,
    id: string,
    epoch: number,
    result: Extract<RotationResult, { kind: 'token' }>,
  ): AccessToken {
    this.background.start(user, result.background);
    return this.remember(id, epoch, result.token);
  }

  private remember(id: string, epoch: number, token: AccessToken & { lastRotatedAt: number }): AccessToken {
    return this.cache.set(id, epoch, token);
  }
}
