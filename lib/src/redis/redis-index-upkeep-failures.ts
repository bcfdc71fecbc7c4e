// How RedisTokenStore reports index upkeep that failed: counted every time, logged at most once a
// minute with the count since the last line. A paused or lost index node during a burst of
// rotations costs one warning, not one per request, even while other shards keep working.

import type { Logger } from '../logger';
import { errorSummary } from './redis-store-errors';

/** Why index upkeep is worth a warning but never an exception: the record write already happened. */
export type Upkeep =
  'compareAndSet' | 'delete' | 'deleteTenant' | 'listByState' | 'listIdleSince' | 'retry' | 'rebuild';

/** The least time between two warnings about failed index upkeep. */
export const UPKEEP_WARNING_INTERVAL_MS = 60_000;

/** Counts index upkeep failures and logs them, at most once per {@link UPKEEP_WARNING_INTERVAL_MS}. */
export class UpkeepFailures {
  private total = 0;
  private unlogged = 0;
  private lastWarningAt = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Every failure since the store was made. */
  get count(): number {
    return this.total;
  }

  /** Counts a failure; logs it, with the failures not logged before it, unless a warning is recent. */
  failed(operation: Upkeep, err: unknown): void {
    this.total += 1;
    this.unlogged += 1;
    const now = this.now();
    if (now - this.lastWarningAt < UPKEEP_WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    this.logger.warn(
      { store: 'RedisTokenStore', operation, failures: this.unlogged, err: errorSummary(err) },
      'Token store index upkeep failed; listings may miss or repeat entries until the failed writes are re-indexed',
    );
    this.unlogged = 0;
  }
}
