// Refreshes held in front of the server and committed later: the late commit that forks a chain
// when a client has already sent the same refresh token again.

import type { ManualClock } from './clock';
import type { LateCommit } from './types';

/**
 * Pending late commits, on a real timer or on the sim clock. A commit does not depend on its
 * client: one that gave up long ago still has its token rotated, as at a real server whose queue
 * held the request. `closeAll()` cancels those not yet made.
 */
export class LateCommitQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onSimClock = new Set<{ dueAt: number; commit: () => void }>();

  constructor(private readonly clock: ManualClock) {
    clock.onMove((now) => {
      for (const pending of [...this.onSimClock]) {
        if (pending.dueAt > now) continue;
        this.onSimClock.delete(pending);
        pending.commit();
      }
    });
  }

  /** Runs `commit` once `step.delayMs` has passed on the step's clock. */
  hold(step: LateCommit, commit: () => void): void {
    if (step.clock === 'sim') {
      this.onSimClock.add({ dueAt: this.clock.now() + step.delayMs, commit });
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      commit();
    }, step.delayMs);
    // The held client's socket, if it still waits, keeps the process alive; nothing else should.
    timer.unref();
    this.timers.add(timer);
  }

  /** Late commits not yet made. */
  pending(): number {
    return this.timers.size + this.onSimClock.size;
  }

  /** Cancels every late commit not yet made. */
  closeAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.onSimClock.clear();
  }
}
