// How big each part is: the full run of the issue, or the quick one (`--quick`).

export interface Plan {
  mode: 'full' | 'quick';
  /** The token endpoint's answer delay (chaos `latencyMs`). */
  tokenLatencyMs: number;
  /** Users handed out to bursts, wake-up and the hot path. */
  accountPool: number;
  /** The sweep; each cell runs `trials` bursts, a fresh user each, latencies pooled. */
  burst: { processes: number[]; concurrency: number[]; trials: number; warmEachProcess: boolean };
  wakeup: { processes: number; concurrency: number; repetitions: number };
  /** Bare and middleware runs alternate `rounds` times, so drift on a shared machine hits both alike. */
  hotPath: { rounds: number; roundSeconds: number; warmupSeconds: number; connections: number };
  scale: { users: number; processes: number; requestsPerUser: number; window: number };
  /**
   * The same users rotated on one node, a Redis Cluster and under Sentinel: each user requested
   * once, `window` requests in flight per process.
   */
  topologies: { users: number; processes: number; window: number };
}

export function makePlan(quick: boolean): Plan {
  return {
    mode: quick ? 'quick' : 'full',
    tokenLatencyMs: 100,
    accountPool: 300,
    burst: {
      processes: [1, 4],
      concurrency: quick ? [10, 200] : [10, 50, 200],
      trials: quick ? 1 : 3,
      warmEachProcess: !quick,
    },
    wakeup: { processes: 4, concurrency: 10, repetitions: quick ? 3 : 7 },
    hotPath: quick
      ? { rounds: 3, roundSeconds: 1, warmupSeconds: 1, connections: 10 }
      : { rounds: 10, roundSeconds: 1, warmupSeconds: 3, connections: 10 },
    scale: { users: quick ? 1_000 : 10_000, processes: 4, requestsPerUser: 2, window: 100 },
    topologies: { users: quick ? 500 : 3_000, processes: 4, window: 50 },
  };
}
