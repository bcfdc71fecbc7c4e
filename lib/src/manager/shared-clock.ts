// One clock for every deadline that processes share (DESIGN.md invariant 14): each process measures
// its offset to the store's clock (Redis `TIME`) and reads its own clock plus that offset, so a
// lease, an in-doubt deadline or an expiry written by one process means the same to another.

import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger';

/** What a {@link SharedClock} reads and how often. */
export interface SharedClockOptions {
  /** This process's own clock, epoch ms (the manager's `now` option). */
  local: () => number;
  /** The shared clock, epoch ms (the store's `time()`); absent: the offset stays 0. */
  source?: () => Promise<number>;
  /** Re-measure this often; 0 never measures (the offset stays 0). */
  intervalMs: number;
  /** One `clock_skew` warning once the offset is larger than this. */
  skewWarningMs: number;
  logger: Logger;
  /** Times the round trip; default `performance.now` (tests pass one that stands still). */
  monotonic?: () => number;
}

/**
 * The local clock corrected by its measured offset to the store's clock. The offset is measured at
 * {@link SharedClock.start} and every `intervalMs`, halfway through the round trip (the server
 * read its clock somewhere inside it). Until the first measurement, and whenever one fails, the
 * last known offset (0 at first) stays.
 */
export class SharedClock {
  private offset = 0;
  private warned = false;
  private timer?: NodeJS.Timeout;
  private first: Promise<void> = Promise.resolve();

  constructor(private readonly options: SharedClockOptions) {}

  /** Epoch ms on the shared time line: the local clock plus the measured offset. */
  readonly now = (): number => this.options.local() + this.offset;

  /** The offset last measured (shared − local), in ms. */
  get offsetMs(): number {
    return this.offset;
  }

  /** Measures now, then every `intervalMs`; does nothing without a source or with interval 0. */
  start(): void {
    const { source, intervalMs } = this.options;
    if (!source || intervalMs === 0 || this.timer) return;
    this.first = this.sync();
    this.timer = setInterval(() => void this.sync(), intervalMs);
    this.timer.unref();
  }

  /** Resolves once the first measurement has been made (or has failed). */
  ready(): Promise<void> {
    return this.first;
  }

  /** One measurement; a failure keeps the last offset and is logged at debug. */
  async sync(): Promise<void> {
    const { source, local, skewWarningMs, logger, monotonic = () => performance.now() } = this.options;
    if (!source) return;
    try {
      const sentLocal = local();
      const sent = monotonic();
      const shared = await source();
      const roundTrip = monotonic() - sent;
      this.offset = Math.round(shared - (sentLocal + roundTrip / 2));
    } catch (error) {
      logger.debug(
        { event: 'clock_sync_failed', err: error instanceof Error ? error.message : String(error) },
        'Could not read the shared clock; keeping the last offset',
      );
      return;
    }
    if (!this.warned && Math.abs(this.offset) > skewWarningMs) {
      this.warned = true;
      logger.warn(
        { event: 'clock_skew', offsetMs: this.offset, warningMs: skewWarningMs },
        "This process's clock differs from the shared (Redis) clock; shared deadlines use the corrected clock",
      );
    }
  }

  /** Stops the re-measuring. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
