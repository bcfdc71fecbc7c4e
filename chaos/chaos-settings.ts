// What the chaos scenario sets: the upstream's misbehaviour (seeded rates), the calm that follows,
// and the app processes' budgets.

import type { ChaosSettings } from '../sim';

/** The upstream's misbehaviour during the rounds (the simulator's rates are seeded). */
export const CHAOS: Readonly<ChaosSettings> = Object.freeze({
  serverErrorRate: 0.2,
  timeoutRate: 0.1,
  missingRefreshTokenRate: 0.1,
  dropAfterCommitRate: 0.05,
  latencyMs: 5,
  jitterMs: 50,
});

/** The upstream behaving, for the last rotation that checks every chain. */
export const CALM: Readonly<ChaosSettings> = Object.freeze({
  serverErrorRate: 0,
  timeoutRate: 0,
  missingRefreshTokenRate: 0,
  dropAfterCommitRate: 0,
  latencyMs: 0,
  jitterMs: 0,
});

/**
 * How long the chaos workers hold back a retry after a request that may still reach the simulator:
 * far longer than the simulator, starved of CPU, has been seen to take to read a request after its
 * client gave up (about 50 ms past a 300 ms timeout with 4 busy loops on 2 cores).
 */
export const CHAOS_COMMIT_HORIZON_MS = 1_000;

/**
 * The workers' budgets: the package's defaults for the lease, the lock and the wait (a dead
 * holder costs at most 6 s of them), a short token request, so a hung answer costs 300 ms of real
 * time, and each process sweeps for in-doubt chains every 100 ms. The simulator's manual clock is
 * the world's clock here, which Redis TIME knows nothing of: no offset is measured to it.
 */
export const WORKER_OPTIONS = Object.freeze({
  requestTimeoutMs: 300,
  tokenRequestAttempts: 2,
  noticeTimeoutMs: 200,
  recoveryIntervalMs: 100,
  // The scripted outcomes all commit before they fail, but on a loaded machine the simulator (in
  // the parent) may read a request only after its worker's 300 ms timeout: a late commit. Without
  // a horizon the retry went out at once, and when the late request landed after it, its leeway
  // reuse retired the token the retry had stored: the next rotation revoked the family. The
  // workers' clocks run in real time (MirroredClock), so this horizon passes within the round.
  commitHorizonMs: CHAOS_COMMIT_HORIZON_MS,
  clockSyncIntervalMs: 0,
  // rideThroughFailures is left at its default (true): a burst rides through a rotation that
  // failed, and the sweeper's recovery serves it (invariant 16).
});
