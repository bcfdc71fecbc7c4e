// The holder's heartbeat (DESIGN.md step 6): while its token request is in flight, the fenced
// lease is renewed by compare-and-set, so the lease can be short. A live holder keeps it; a dead
// one loses it within `leaseMs`, and waiters take over (under the lock) seconds after a crash.

import { LockUnavailableError, NotDurableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import type { TokenRecord, UserRef } from '../types';
import { errorName, who } from './log-context';
import type { RecordAccess } from './record-access';

/** What a heartbeat needs: the record access, the shared clock, the lease length, a logger. */
export interface LeaseHeartbeatDeps {
  records: Pick<RecordAccess, 'write'>;
  now: () => number;
  logger: Logger;
  leaseMs: number;
}

type Renewal = 'renewed' | 'failed' | 'lost';

/**
 * Keeps one holder's lease alive: every third of `leaseMs`, a compare-and-set of the leased record
 * (same fence, version bumped, `until` moved to now + `leaseMs`). If another write won the record,
 * or Redis failed until the lease ran out, the lease is lost: {@link LeaseHeartbeat.signal} aborts
 * (with the lock's signal, it is what the token request runs under) and `lease_lost` is logged.
 * Each renewal bumps the version, so whoever writes next compares against
 * {@link LeaseHeartbeat.record}, the latest renewed record, never the first leased one.
 */
export class LeaseHeartbeat {
  /** Aborts once the lock or the lease is lost. */
  readonly signal: AbortSignal;
  private leased: TokenRecord;
  private readonly lost = new AbortController();
  private renewing: Promise<Renewal> = Promise.resolve('renewed');
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly deps: LeaseHeartbeatDeps,
    private readonly user: UserRef,
    leased: TokenRecord,
    lockSignal: AbortSignal,
  ) {
    if (!leased.lease) throw new TypeError('LeaseHeartbeat needs a leased record');
    this.leased = leased;
    this.signal = AbortSignal.any([lockSignal, this.lost.signal]);
    this.schedule(deps.leaseMs / 3);
  }

  /** The latest leased record as stored: what the settlement's compare-and-set expects. */
  get record(): TokenRecord {
    return this.leased;
  }

  /**
   * Renews the lease now (after any renewal in flight) and tells whether it still stands: a
   * holder calls it before any further token request, so a lease lost meanwhile (taken over, or
   * unconfirmable while Redis fails) never lets a second request out.
   */
  async confirm(): Promise<boolean> {
    return (await this.enqueue()) === 'renewed';
  }

  /** Stops renewing; resolves, once a renewal in flight has landed, with the latest leased record. */
  async stop(): Promise<TokenRecord> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
    return this.leased;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.signal.aborted) return;
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      void this.enqueue().then((renewal) =>
        // A failed renewal (Redis) is retried sooner, while the lease still runs.
        this.schedule(renewal === 'failed' ? this.deps.leaseMs / 6 : this.deps.leaseMs / 3),
      );
    }, delayMs);
  }

  private enqueue(): Promise<Renewal> {
    this.renewing = this.renewing.then(() => this.renew());
    return this.renewing;
  }

  private async renew(): Promise<Renewal> {
    if (this.signal.aborted) return 'lost';
    const { records, now, leaseMs } = this.deps;
    const lease = this.leased.lease!;
    const renewed: TokenRecord = {
      ...this.leased,
      version: this.leased.version + 1,
      lease: { ...lease, until: now() + leaseMs },
    };
    try {
      if (await records.write(this.user, this.leased, renewed)) {
        this.leased = renewed;
        return 'renewed';
      }
      this.lose('another write won the record');
      return 'lost';
    } catch (error) {
      // Written on the primary, unacknowledged by the replicas (invariant 15): the settlement must
      // expect it, but it proves nothing for a further request.
      if (error instanceof NotDurableError) this.leased = renewed;
      if (now() < lease.until) return 'failed';
      this.lose('it ran out before a renewal succeeded', error);
      return 'lost';
    }
  }

  private lose(reason: string, cause?: unknown): void {
    if (this.lost.signal.aborted) return;
    this.deps.logger.warn(
      {
        event: 'lease_lost',
        ...who(this.user),
        reason,
        err: cause === undefined ? undefined : errorName(cause),
      },
      `Lost the rotation lease: ${reason}; aborting the token request`,
    );
    this.lost.abort(
      new LockUnavailableError(
        `The rotation lease was lost: ${reason}`,
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        cause,
      ),
    );
  }
}
