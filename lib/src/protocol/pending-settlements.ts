// A settlement whose write did not land (DESIGN.md step 7, invariant 13): the server rotated, so
// the new pair exists nowhere but here. It is kept in memory, served to this process's callers,
// and written again by the same compare-and-set until it lands or another writer wins.

import { sleep as abortableSleep } from '../express/jira-retry';
import type { Logger } from '../logger';
import type { TokenStats } from '../metrics/token-stats';
import type { AccessToken, TokenRecord, UserRef } from '../types';
import { userId } from '../store/user-key';
import { errorName, who } from './log-context';
import { type RecordAccess, type WriteOutcome, tokenOf } from './record-access';

/** The first retry waits about this long; each next one twice as long, up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 50;
/** Retries never wait longer than this, so a store that comes back is written within a second. */
const MAX_DELAY_MS = 1_000;

/** A settlement write to make again; see {@link PendingSettlements.keep}. */
export interface Settlement {
  user: UserRef;
  /** The record the write replaces: the holder's `rotating` record, lease included. */
  expected: TokenRecord;
  /** What the write puts there: the new pair, sealed, at `expected.version + 1`. */
  updated: TokenRecord;
  /** The new access token, served from memory until the write lands. Never logged. */
  accessToken: string;
  /** Runs once the write landed: counts, logs and publishes as a write that landed at once would. */
  landed(): Promise<void>;
  /** Runs when another writer won the record: the pair is not ours to store any more. */
  lost(): void;
}

/** What the retries need: the store, where they count and log, and the clocks. */
export interface PendingSettlementsDeps {
  records: Pick<RecordAccess, 'tryWrite' | 'get' | 'confirm'>;
  logger: Logger;
  stats: Pick<TokenStats, 'settleWriteRetries'>;
  /** The clock the lease's `until` was set with. */
  now: () => number;
  /** Waits between retries; rejects when the signal aborts. Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** In [0, 1): the jitter. Default `Math.random`. */
  random?: () => number;
}

interface Entry {
  settlement: Settlement;
  since: number;
  /** The retry loop; settles when the entry is gone. */
  done: Promise<void>;
}

/**
 * Settlements of this process whose write is not known to have landed, by user. Only the holder
 * of the lease the write expects adds one, so there is at most one per user.
 */
export class PendingSettlements {
  private readonly entries = new Map<string, Entry>();
  /** Waits of this process's requests to wake when a pair is kept for their user. */
  private readonly sleepers = new Map<string, Set<() => void>>();
  private readonly stopping = new AbortController();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly deps: PendingSettlementsDeps) {
    this.sleep = deps.sleep ?? abortableSleep;
    this.random = deps.random ?? Math.random;
  }

  /**
   * Keeps a settlement whose write ended `unconfirmed`, and writes it again with backoff (50 ms
   * doubling to 1 s, jittered) until it lands, another writer wins, or {@link close}. Logs one
   * warning now, and one info line when it lands.
   */
  keep(settlement: Settlement, outcome: Extract<WriteOutcome, { kind: 'unconfirmed' }>): void {
    const { user } = settlement;
    this.deps.logger.warn(
      { event: 'settle_write_retrying', ...who(user), reason: outcome.reason, err: errorName(outcome.error) },
      'Could not store the rotated Jira tokens; keeping them in memory and writing them again',
    );
    const entry: Entry = { settlement, since: performance.now(), done: Promise.resolve() };
    this.entries.set(userId(user), entry);
    entry.done = this.retry(entry);
    for (const wake of this.sleepers.get(userId(user)) ?? []) wake();
  }

  /**
   * A request's wait for a notice that also ends, with `null`, as soon as a pair is kept for the
   * user: the notice that would wake it cannot be published while the store is down.
   */
  orKept<T>(
    user: UserRef,
    wait: { promise: Promise<T | null>; cancel(): void },
  ): { promise: Promise<T | null>; cancel(): void } {
    const id = userId(user);
    let wake!: () => void;
    const kept = new Promise<null>((resolve) => (wake = () => resolve(null)));
    const sleepers = this.sleepers.get(id) ?? new Set();
    sleepers.add(wake);
    this.sleepers.set(id, sleepers);
    return {
      promise: Promise.race([wait.promise, kept]),
      cancel: () => {
        wait.cancel();
        sleepers.delete(wake);
        if (sleepers.size === 0 && this.sleepers.get(id) === sleepers) this.sleepers.delete(id);
      },
    };
  }

  /** Whether this process holds a pair for the user that the store has not confirmed yet. */
  holds(user: UserRef): boolean {
    return this.entries.has(userId(user));
  }

  /**
   * The held access token for the user, unless it is the `rejected` one or has expired: what this
   * process's callers get while the store cannot tell them.
   */
  tokenFor(user: UserRef, rejected?: string): (AccessToken & { lastRotatedAt: number }) | undefined {
    const entry = this.entries.get(userId(user));
    if (!entry) return undefined;
    const { accessToken, updated } = entry.settlement;
    if (accessToken === rejected || updated.expiresAt <= this.deps.now()) return undefined;
    return tokenOf(updated, accessToken);
  }

  /** The retry loops running now. */
  pending(): Promise<void>[] {
    return [...this.entries.values()].map((entry) => entry.done);
  }

  /**
   * Stops retrying. A pair still held is lost with this process: logged at error, the chain stays
   * `rotating` until its lease runs out, then in doubt, and recovery reuses the previous refresh
   * token inside Atlassian's leeway.
   */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.pending());
  }

  private async retry(entry: Entry): Promise<void> {
    const { user } = entry.settlement;
    let pastLeaseLogged = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sleep(this.delay(attempt), this.stopping.signal);
      } catch {
        return this.abandon(entry, attempt - 1);
      }
      this.deps.stats.settleWriteRetries += 1;
      const outcome = await this.deps.records
        .tryWrite(user, entry.settlement.expected, entry.settlement.updated)
        .catch((error: unknown) => error);
      if (!isOutcome(outcome)) return this.abandon(entry, attempt, outcome);
      let won = outcome.kind === 'lost' ? await this.whoseWrite(entry) : outcome.kind;
      // Our write is in place, but a write the replicas do not hold may still vanish in a failover
      // (invariant 15): it counts once they acknowledge it.
      if (won === 'ours') {
        const confirmed = await this.deps.records.confirm(user).catch(() => undefined);
        won = confirmed?.kind === 'written' ? 'written' : 'unconfirmed';
      }
      if (won === 'written') {
        this.entries.delete(userId(user));
        this.deps.logger.info(
          { event: 'settle_write_landed', ...who(user), attempts: attempt, pendingMs: this.pendingMs(entry) },
          'Stored the rotated Jira tokens after a failed write',
        );
        return entry.settlement.landed();
      }
      if (won === 'theirs') {
        this.entries.delete(userId(user));
        return entry.settlement.lost();
      }
      if (!pastLeaseLogged && this.deps.now() >= (entry.settlement.expected.lease?.until ?? 0)) {
        // Writing on is still safe: a process that takes over must first win the lease by
        // compare-and-set on `expected`'s version, and then this write loses. Until then this pair
        // is the server's current one, and the only copy of it.
        pastLeaseLogged = true;
        this.deps.logger.warn(
          { event: 'settle_write_past_lease', ...who(user), attempts: attempt },
          'The lease ran out before the rotated Jira tokens could be stored; still writing them',
        );
      }
    }
  }

  /**
   * After a write that may have landed without our learning it (a reply lost with the
   * connection), the next compare-and-set loses against our own write. The sealed ciphertext has
   * a random IV, so a record that carries it is ours. A read that fails cannot tell: retry.
   *
   * After a failover that lost unacknowledged writes (invariant 15), the record can be back at an
   * earlier version of our own lease (a renewal that was lost): still ours to settle, so the pair
   * is written next by compare-and-set on that version (`unconfirmed`: write again).
   */
  private async whoseWrite(entry: Entry): Promise<'ours' | 'theirs' | 'unconfirmed'> {
    const { settlement } = entry;
    const current = await this.deps.records.get(settlement.user).catch(() => undefined);
    if (current === undefined) return 'unconfirmed';
    const { updated, expected } = settlement;
    if (current === null || current.generation !== updated.generation) return 'theirs';
    if (current.version === updated.version && current.ciphertext === updated.ciphertext) return 'ours';
    const ourLease =
      current.state === 'rotating' &&
      current.lease?.fence === expected.lease?.fence &&
      current.version < expected.version;
    if (!ourLease) return 'theirs';
    entry.settlement = {
      ...settlement,
      expected: current,
      updated: { ...updated, version: current.version + 1 },
    };
    return 'unconfirmed';
  }

  private abandon(entry: Entry, attempts: number, error?: unknown): void {
    const { user } = entry.settlement;
    if (this.entries.get(userId(user)) === entry) this.entries.delete(userId(user));
    this.deps.logger.error(
      {
        event: 'settle_write_abandoned',
        ...who(user),
        attempts,
        pendingMs: this.pendingMs(entry),
        err: error === undefined ? 'closed' : errorName(error),
      },
      'Gave up storing rotated Jira tokens; recovery will reuse the previous refresh token',
    );
  }

  /** 50 ms doubling to 1 s, each drawn from its upper half. */
  private delay(attempt: number): number {
    const ceiling = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  private pendingMs(entry: Entry): number {
    return Math.round(performance.now() - entry.since);
  }
}

function isOutcome(value: unknown): value is WriteOutcome {
  return typeof value === 'object' && value !== null && 'kind' in value;
}
