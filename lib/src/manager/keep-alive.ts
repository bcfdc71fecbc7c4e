// Keep-alive: Atlassian expires a refresh token unused for 90 days, so chains of users who stay
// away are rotated in the background before that, one sweeper at a time across the cluster,
// through the same locked protocol as requests, and at a bounded rate.

import { errorName } from '../protocol/log-context';
import type { Logger } from '../logger';
import { type PacerClock, RatePacer } from './rate-pacer';
import type { RefreshLock } from '../lock/refresh-lock';
import type { BackgroundOutcome } from '../protocol/rotation-result';
import type { TokenStats } from '../metrics/token-stats';
import type { TokenStore } from '../store/token-store';
import type { UserRef } from '../types';
import { userId } from '../store/user-key';

/** What one keep-alive sweep did. */
export interface KeepAliveSweep {
  /**
   * Whether this process swept: false when keep-alive is disabled, the manager is closed, or
   * another process holds the sweeper lock (it is sweeping).
   */
  swept: boolean;
  /** Idle chains rotated. */
  rotated: number;
  /** Rotations that failed: logged, counted in `keepAliveFailures`, never thrown. */
  failed: number;
  /**
   * Idle records left alone: not `active` (in doubt or rotating: the recovery sweeper's job;
   * `reauthorization_required`: dead), or rotated by someone else since they were listed.
   */
  skipped: number;
}

export interface KeepAliveSettings {
  /** Rotate chains not rotated for this long; 0 disables keep-alive. */
  afterMs: number;
  /** Between sweeps (plus up to 10 % jitter); 0: no timer, sweeps on demand only. */
  intervalMs: number;
  ratePerSecond: number;
  batchSize: number;
}

export interface KeepAliveDeps {
  store: Pick<TokenStore, 'listIdleSince'>;
  lock: Pick<RefreshLock, 'tryWithJobLock'>;
  /** Rotates one user's chain if it is still active and idle, under the user's lock; never throws. */
  rotate(user: UserRef): Promise<BackgroundOutcome>;
  stats: Pick<TokenStats, 'keepAliveRotations' | 'keepAliveFailures'>;
  logger: Logger;
  /** The manager's clock, epoch ms: what `lastRotatedAt` is measured in. */
  now(): number;
  /** The clock the rate limit waits on (monotonic). */
  pacer: PacerClock;
  settings: KeepAliveSettings;
  /** For the timer's jitter. Default `Math.random`. */
  random?: () => number;
}

/** The sweeper's cluster-wide lock, `<keyPrefix>job:keepalive` with Redis. */
export const KEEP_ALIVE_JOB = 'keepalive';
/** Spread of the timer, as a fraction of the interval, so processes started together drift apart. */
const JITTER = 0.1;

/**
 * Finds idle chains through the store's idle index (scored by `lastRotatedAt`, oldest first),
 * never by a scan of every key, and rotates each active one that is still idle. One sweep at a
 * time per process; with a lock that has {@link RefreshLock.tryWithJobLock}, one per cluster.
 */
export class KeepAliveSweeper {
  private readonly closing = new AbortController();
  private timer?: NodeJS.Timeout;
  private running?: Promise<KeepAliveSweep>;

  constructor(private readonly deps: KeepAliveDeps) {}

  /** Starts the timer, unless keep-alive or its timer is disabled. */
  start(): void {
    const { afterMs, intervalMs } = this.deps.settings;
    if (afterMs === 0 || intervalMs === 0 || this.closing.signal.aborted) return;
    const random = this.deps.random ?? Math.random;
    const delay = intervalMs + Math.floor(random() * intervalMs * JITTER);
    this.timer = setTimeout(() => void this.sweep().finally(() => this.start()), delay);
    this.timer.unref();
  }

  /** Runs one sweep, or joins the one running in this process. Never rejects. */
  sweep(): Promise<KeepAliveSweep> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer, stops a running sweep between two rotations, and waits for it. */
  async close(): Promise<void> {
    this.closing.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private async run(): Promise<KeepAliveSweep> {
    const result: KeepAliveSweep = { swept: false, rotated: 0, failed: 0, skipped: 0 };
    const { lock, logger, settings } = this.deps;
    if (settings.afterMs === 0 || this.closing.signal.aborted) return result;
    try {
      if (!lock.tryWithJobLock) {
        // A custom lock without job locks: every process sweeps; the per-user protocol still
        // rotates each chain once.
        await this.walk(this.closing.signal, result);
      } else {
        const attempt = await lock.tryWithJobLock(KEEP_ALIVE_JOB, (lost) =>
          this.walk(AbortSignal.any([this.closing.signal, lost]), result),
        );
        if (!attempt.acquired) {
          logger.debug({ event: 'keep_alive_busy' }, 'Another process is running the keep-alive sweep');
        }
      }
    } catch (error) {
      logger.warn({ event: 'keep_alive_sweep_failed', err: errorName(error) }, 'The keep-alive sweep failed');
    }
    if (result.rotated + result.failed > 0) {
      logger[result.failed > 0 ? 'warn' : 'info'](
        {
          event: 'keep_alive_swept',
          rotated: result.rotated,
          failed: result.failed,
          skipped: result.skipped,
        },
        'Kept idle Jira token chains alive',
      );
    }
    return result;
  }

  /**
   * Pages through the idle index. Rotated records leave it (their `lastRotatedAt` is now), so
   * each page asks for the records kept back so far plus one batch, and skips those already seen.
   */
  private async walk(signal: AbortSignal, result: KeepAliveSweep): Promise<void> {
    const { store, now, settings, stats } = this.deps;
    result.swept = true;
    const idleBefore = now() - settings.afterMs;
    const pacer = new RatePacer(settings.ratePerSecond, this.deps.pacer);
    const seen = new Set<string>();
    let keptBack = 0;
    for (;;) {
      const page = await store.listIdleSince(idleBefore, keptBack + settings.batchSize);
      const unseen = page.filter(({ user }) => !seen.has(userId(user)));
      if (unseen.length === 0) return;
      for (const { user, record } of unseen) {
        if (signal.aborted) return;
        seen.add(userId(user));
        if (record.state !== 'active') {
          result.skipped += 1;
          keptBack += 1;
          continue;
        }
        try {
          await pacer.next(signal);
        } catch (error) {
          if (signal.aborted) return;
          throw error;
        }
        if (signal.aborted) return;
        const outcome = await this.deps.rotate(user);
        if (outcome === 'rotated') {
          result.rotated += 1;
          stats.keepAliveRotations += 1;
          continue;
        }
        keptBack += 1;
        if (outcome === 'failed') {
          result.failed += 1;
          stats.keepAliveFailures += 1;
        } else result.skipped += 1;
      }
    }
  }
}
