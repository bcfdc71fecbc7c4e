// The simulator's manual clock as a child process sees it: the last reading the parent sent over
// IPC, plus the real time elapsed since, so leases and timeouts still run in a child.

/** A child's view of the parent's simulator clock. */
export class MirroredClock {
  private simNow: number;
  private since = Date.now();

  constructor(simNow: number) {
    this.simNow = simNow;
  }

  /** The parent moved the simulator's clock (or just re-synchronised it). */
  set(simNow: number): void {
    this.simNow = simNow;
    this.since = Date.now();
  }

  /** Epoch milliseconds on the simulator's time line; pass as the manager's `now`. */
  readonly now = (): number => this.simNow + (Date.now() - this.since);
}
