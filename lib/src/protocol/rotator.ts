// One rotation, done by the holder of a user's lock (DESIGN.md steps 5–7): re-read, take the
// fenced lease by CAS, make ONE token request, and hand the answer to its settlement.

import { randomBytes } from 'node:crypto';
import { NotConnectedError, NotDurableError, ReauthorizationRequiredError } from '../errors';
import { fingerprint } from '../fingerprint';
import { type RefreshOutcome, retriableAtOnce } from '../oauth/refresh-outcome';
import type { TokenRecord, TokenSecrets, UserRef } from '../types';
import { InDoubtBook } from './in-doubt-book';
import { LeaseHeartbeat } from './lease-heartbeat';
import { logLeaseHeldElsewhere, who } from './log-context';
import { assessRecord } from './record-assessment';
import { PendingSettlements } from './pending-settlements';
import { type OpenRecord, tokenOf } from './record-access';
import { type RotationIntent, type RotationResult, backgroundOf, inDoubtError } from './rotation-result';
import { RotationSettler } from './rotation-settlement';
import type { RotatorDeps } from './rotator-deps';

/**
 * Runs one rotation for the holder of a user's lock: the double-checked read, the fenced lease,
 * ONE token request, and its settlement.
 */
export class Rotator {
  private readonly book: InDoubtBook;
  private readonly settler: RotationSettler;
  /** Rotated pairs of this process that the store has not confirmed yet (invariant 13). */
  readonly pending: PendingSettlements;

  constructor(private readonly deps: RotatorDeps) {
    this.book = new InDoubtBook(deps);
    this.pending = new PendingSettlements(deps);
    this.settler = new RotationSettler(deps, this.book, this.pending);
  }

  /**
   * Runs while holding the user's lock. The double-checked read happens here, unless the caller
   * passes the record it read just before taking the lock: a read under the lock would cost the
   * holder one more Redis round trip before its token request, and it adds no safety, because the
   * lease is taken by compare-and-set on that record's version. If someone wrote in between, the
   * CAS fails and the caller waits for the notice of that write and reads again.
   */
  async runUnderLock(
    user: UserRef,
    intent: RotationIntent,
    signal: AbortSignal,
    readJustBefore?: OpenRecord,
  ): Promise<RotationResult> {
    const { records, now, settings } = this.deps;
    const { background } = intent;
    if (this.pending.holds(user)) {
      // This process holds the chain's current pair while the store still shows the lease: a
      // rotation from the stored refresh token would spend the leeway, so none starts here.
      if (background) return { kind: 'idle' };
      const held = this.pending.tokenFor(user, intent.rejected);
      return held ? { kind: 'token', token: held, rotated: false } : { kind: 'wait' };
    }
    const read = readJustBefore ?? (await records.read(user));
    if (!read) {
      if (background) return { kind: 'idle' };
      throw new NotConnectedError();
    }
    const { record, secrets } = read;
    if (background === 'keep_alive') {
      // Re-checked under the lock: a request, a refresh-ahead or another sweeper that rotated the
      // chain since it was listed has kept it alive already, so a burst and a sweep rotate once.
      const idle = record.lastRotatedAt < now() - settings.keepAliveAfterMs;
      if (record.state !== 'active' || !idle || !secrets) return { kind: 'idle' };
      return this.rotate(user, record, secrets, signal);
    }
    const assessment = assessRecord({
      record,
      secrets,
      rejected: intent.rejected,
      now: now(),
      expiryMarginMs: settings.expiryMarginMs,
      refreshAheadMs: settings.refreshAheadMs,
      inDoubtRetryMs: settings.inDoubtRetryMs,
    });
    switch (assessment.action) {
      case 'reauthorize':
        if (background) return { kind: 'idle' };
        throw new ReauthorizationRequiredError();
      case 'wait':
        // Our lock lapsed or theirs did: the fenced lease, not the lock, decides who may call.
        logLeaseHeldElsewhere(this.deps.logger, user);
        return { kind: 'wait' };
      case 'use': {
        const wanted = backgroundOf(assessment);
        if (background && wanted === background) break;
        // Nothing (left) to do, e.g. another process rotated ahead already: hand back the token
        // so the caller's cache learns of it.
        return {
          kind: 'token',
          token: tokenOf(record, secrets!.accessToken),
          rotated: false,
          background: background ? undefined : wanted,
        };
      }
      case 'refresh':
        // The sweeper never rotates a healthy chain; a refresh-ahead that came late still may.
        if (background === 'recover') return { kind: 'idle' };
        break;
      case 'backoff':
        // Pacing applies to requests; the sweeper's own cadence paces recovery. The commit
        // horizon applies to everyone: before it, a retry could fork the chain.
        if (background === 'recover' && !assessment.commitHorizon) break;
        if (background) return { kind: 'idle' };
        throw inDoubtError(assessment.retryAfterMs);
      case 'recover':
        break;
    }
    return this.rotate(user, record, secrets!, signal);
  }

  private async rotate(
    user: UserRef,
    record: TokenRecord,
    secrets: TokenSecrets,
    signal: AbortSignal,
  ): Promise<RotationResult> {
    const { records, now, settings, logger } = this.deps;
    const start = now();
    const baseline = this.book.baseline(record);
    // Step 6: the fenced lease. Only one holder in the whole cluster can win this CAS for this
    // (generation, version), so at most one token request is ever in flight (invariant 1).
    const rotating: TokenRecord = {
      ...record,
      version: record.version + 1,
      state: 'rotating',
      lease: {
        fence: randomBytes(9).toString('base64url'),
        startedAt: start,
        until: start + settings.leaseMs,
      },
      inDoubt: baseline.inDoubt,
    };
    if (!(await this.takeLease(user, record, rotating))) return { kind: 'wait' };
    if (record.state === 'rotating') this.book.noteInDoubt(user, 'holder_died');
    logger.debug(
      { event: 'rotation_started', ...who(user), refreshToken: fingerprint(secrets.refreshToken) },
      'Rotating',
    );

    // The heartbeat renews the short lease while the request is in flight; the settlement then
    // compares against the latest renewed record, not the first leased one.
    const lease = new LeaseHeartbeat(
      { records, now, logger, leaseMs: settings.leaseMs },
      user,
      rotating,
      signal,
    );
    let outcome: RefreshOutcome;
    try {
      outcome = await this.request(secrets.refreshToken, lease);
    } finally {
      await lease.stop();
    }
    return this.settler.settle(user, lease.record, secrets, baseline, outcome);
  }

  /**
   * Writes the lease. One the replicas did not acknowledge (invariant 15) is not safely held: a
   * failover could bring back the record before it, and another process could then lease the
   * same refresh token. A write that failed (a timeout, a connection lost in a failover) may have
   * landed all the same. Either way no token request is made: the record is put back as it was
   * read (one more version, by a CAS on the lease's own version, so it changes nothing unless the
   * lease landed; best effort, unacknowledged too) and the caller gets the 503. Without that, a
   * lease that landed unseen would hold every other request back until it ran out, like a dead
   * holder's (nothing rotated).
   */
  private async takeLease(user: UserRef, record: TokenRecord, rotating: TokenRecord): Promise<boolean> {
    try {
      return await this.deps.records.write(user, record, rotating);
    } catch (error) {
      if (error instanceof NotDurableError) {
        this.deps.logger.warn(
          { event: 'lease_not_durable', ...who(user), acknowledged: error.acknowledged },
          'The replicas did not acknowledge the rotation lease; not rotating',
        );
      } else {
        this.deps.logger.debug(
          { event: 'lease_write_failed', ...who(user), err: error },
          'The rotation lease could not be written (it may have landed); releasing it, not rotating',
        );
      }
      const released = { ...record, version: rotating.version + 1 };
      await this.deps.records.write(user, rotating, released).catch(() => false);
      throw error;
    }
  }

  /**
   * Step 7: ONE token request that may still be committing at the server. Another is sent at once
   * only when the last cannot have reached it (`not_sent`: refused, unresolved, TLS before
   * sending) or the server answered a 5xx that ended the exchange (not a gateway's 502 or 504),
   * attempts remain, and a fresh renewal proves the lease still stands. One that may still reach the server (a timeout, a
   * reset, a 502 or 504) is never repeated here: the record's commit horizon holds every process
   * back until it may have committed.
   */
  private async request(refreshToken: string, lease: LeaseHeartbeat): Promise<RefreshOutcome> {
    const { oauth, settings, observer } = this.deps;
    const { signal } = lease;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await oauth.refresh(refreshToken, signal);
      observer.tokenEndpointCalled((performance.now() - started) / 1000, outcome.kind);
      const lastChance =
        !retriableAtOnce(outcome) || attempt >= settings.tokenRequestAttempts || signal.aborted;
      // Invariant 14: a fresh renewal proves the lease still stands before any further request.
      if (lastChance || !(await lease.confirm())) return outcome;
    }
  }
}
