// Background recovery of in-doubt chains: every process looks for chains left in doubt or with a
// dead lease holder, and recovers each under its user's lock, so sweepers never race on a chain.

import { errorName } from '../protocol/log-context';
import type { BackgroundRotations } from './background-rotations';
import type { TokenManagerDeps } from './token-manager-deps';

/** How many in-doubt and how many stale rotating records one sweep reads. */
const SWEEP_BATCH = 100;

/** Sweeps every `recoveryIntervalMs` (0: only on demand), one sweep at a time per process. */
export class InDoubtSweeper {
  private readonly timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(
    private readonly deps: Pick<TokenManagerDeps, 'store' | 'now' | 'logger'>,
    intervalMs: number,
    private readonly background: BackgroundRotations,
    private readonly closed: () => boolean,
  ) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.sweep(), intervalMs);
      this.timer.unref();
    }
  }

  /** Runs one sweep, or joins the one running. Resolves with how many chains it recovered. */
  sweep(): Promise<number> {
    // One sweep at a time per process; each user is recovered under its lock, so sweepers of
    // several processes never race on one chain.
    this.sweeping ??= this.run().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** The sweep running now, if any. */
  get running(): Promise<number> | undefined {
    return this.sweeping;
  }

  /** Stops the timer; a sweep under way ends at its next user. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<number> {
    if (this.closed()) return 0;
    const { store, now, logger } = this.deps;
    let recovered = 0;
    try {
      const inDoubt = await store.listByState('in_doubt', SWEEP_BATCH);
      const rotating = await store.listByState('rotating', SWEEP_BATCH);
      const stale = rotating.filter(({ record }) => !record.lease || record.lease.until <= now());
      for (const { user } of [...inDoubt, ...stale]) {
        if (this.closed()) break;
        if ((await this.background.run(user, 'recover')) === 'rotated') recovered += 1;
      }
    } catch (error) {
      logger.warn(
        { event: 'recovery_sweep_failed', err: errorName(error) },
        'The in-doubt recovery sweep failed',
      );
    }
    return recovered;
  }
}
