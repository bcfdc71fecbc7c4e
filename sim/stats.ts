// The simulator's counters.

import type { SimStats } from './types';

type Counters = Omit<SimStats, 'families'>;

function zero(): Counters {
  return {
    tokenRequests: 0,
    rotations: 0,
    leewayReuses: 0,
    revocations: 0,
    invalidGrant: 0,
    invalidClient: 0,
    codeExchanges: 0,
    apiRequests: 0,
    apiUnauthorized: 0,
    chaos: { serverErrors: 0, timeouts: 0, drops: 0, missingRefreshTokens: 0, lateCommits: 0 },
    personalData: {
      reports: 0,
      accountsReported: 0,
      closedAnswers: 0,
      updatedAnswers: 0,
      throttled: 0,
      rejected: 0,
    },
  };
}

/** Mutable counters; `snapshot` copies them so callers can keep the result. */
export class StatsCounters {
  /** Incremented in place by the handlers. */
  counters: Counters = zero();

  reset(): void {
    this.counters = zero();
  }

  snapshot(families: SimStats['families']): SimStats {
    return {
      ...this.counters,
      chaos: { ...this.counters.chaos },
      personalData: { ...this.counters.personalData },
      families: { ...families },
    };
  }
}
