// The bookkeeping of a chain in doubt: what to restore when the server certainly did not rotate,
// the deadline that runs from the first request that may have, and the one warning per case.

import { mayCommitLate } from '../oauth/fetch-failure';
import { who } from './log-context';
import type { RotatorDeps } from './rotator-deps';
import type { InDoubtReason, TokenRecord, UserRef } from '../types';

/** A record's in-doubt mark. */
export type InDoubt = NonNullable<TokenRecord['inDoubt']>;

/** What a record was before its lease: the state and in-doubt mark to restore or build on. */
export type Baseline = Pick<TokenRecord, 'state' | 'inDoubt'>;

/** Deadlines, restorable baselines and the in-doubt counters, for the holder of a lease. */
export class InDoubtBook {
  constructor(private readonly deps: Pick<RotatorDeps, 'now' | 'settings' | 'stats' | 'logger'>) {}

  /**
   * What the record was before the lease, to restore when the server certainly did not rotate.
   * A record still `rotating` after its lease ran out lost its holder mid-call: that is in doubt.
   */
  baseline(record: TokenRecord): Baseline {
    if (record.state === 'rotating') {
      const startedAt = record.lease?.startedAt ?? record.lastRotatedAt;
      return { state: 'in_doubt', inDoubt: record.inDoubt ?? this.newInDoubt(startedAt, 'holder_died') };
    }
    if (record.state === 'in_doubt') return { state: 'in_doubt', inDoubt: record.inDoubt };
    return { state: 'active', inDoubt: undefined };
  }

  /**
   * Keeps the first deadline: the leeway runs from the first request that may have rotated. A
   * request that may still reach the server (a timeout, a reset, a gateway's 502 or 504: `status`
   * is the answer's, when there was one) sets the commit horizon, `commitHorizonMs` from now (the
   * moment this holder gave up on it, so at least that long after it was sent): nobody sends the
   * same refresh token before it, or a late commit would retire the token the retry stored.
   */
  inDoubtFor(
    baseline: Pick<TokenRecord, 'inDoubt'>,
    rotating: TokenRecord,
    reason: InDoubtReason,
    status?: number,
  ): InDoubt {
    const now = this.deps.now();
    const first = baseline.inDoubt ?? this.newInDoubt(rotating.lease!.startedAt, reason);
    const { retryNotBefore: _previous, ...mark } = first;
    const horizon = mayCommitLate(reason, status) ? now + this.deps.settings.commitHorizonMs : undefined;
    return {
      ...mark,
      reason,
      lastAttemptAt: now,
      ...(horizon === undefined ? {} : { retryNotBefore: horizon }),
    };
  }

  /** The baseline, noting that a token request was just made for it if it is in doubt. */
  attempted(baseline: Baseline): Baseline {
    if (!baseline.inDoubt) return baseline;
    return { ...baseline, inDoubt: { ...baseline.inDoubt, lastAttemptAt: this.deps.now() } };
  }

  private newInDoubt(leaseStart: number, reason: InDoubtReason): InDoubt {
    const { settings } = this.deps;
    return { since: leaseStart, deadline: leaseStart + settings.leewayMs - settings.inDoubtSafetyMs, reason };
  }

  /** Counts and logs a chain entering doubt, once per case (only the lease holder gets here). */
  noteInDoubt(user: UserRef, reason: InDoubtReason, status?: number): void {
    this.deps.stats.inDoubt[reason] += 1;
    this.deps.logger.warn(
      { event: 'in_doubt', ...who(user), reason, status },
      'A Jira token rotation is in doubt; recovering it',
    );
  }
}
