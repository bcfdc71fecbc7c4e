// The upstream in chaos (seeded: 20% 5xx, 10% timeouts after the commit, 10% answers without the
// rotated refresh token, 5% connections dropped after the commit, latency jitter), four app
// processes, ten expiry rounds: nothing revoked, nobody sent to re-consent, every request answered
// with a valid token or (at most 2% of them) a 503 with Retry-After, and every chain alive afterwards.

import { runChaos } from '../../chaos/scenario';
import { REDIS_URL } from '../support/manager-harness';
import { CHAOS_WORKER } from '../support/test-children';

test('4 processes × 20 concurrent requests × 10 expiry rounds under upstream chaos', async () => {
  const report = await runChaos({
    rounds: 10,
    processes: 4,
    concurrency: 20,
    users: 4,
    seed: 1,
    redisUrl: REDIS_URL,
    workerPath: CHAOS_WORKER,
  });
  expect(report.otherAnswers).toEqual([]);
  expect(report.figures).toEqual({
    rounds: 10,
    requests: 800,
    ok: 800 - report.figures.served503,
    served503: report.figures.served503,
    revocations: 0,
    reauthorizationRequired: 0,
    lostChains: 0,
    unhandled: 0,
  });
  expect(report.leaked).toEqual([]);
  // With the default ride-through, a burst waits for the recovery of a failed rotation: at most 2%
  // of the requests answer 503 (the target; every measured run had 0). Answering each failure at
  // once served 11–22% here.
  expect(report.figures.served503).toBeLessThanOrEqual(800 * 0.02);
  // Seed 1 draws every kind of failure within its first 20 refresh requests, and ten rounds of
  // four users make at least 40: each kind happened, and chains in doubt were recovered.
  for (const kind of ['serverErrors', 'timeouts', 'drops', 'missingRefreshTokens'] as const)
    expect(report.sim.chaos[kind]).toBeGreaterThan(0);
  expect(report.sim.leewayReuses).toBeGreaterThan(0);
  expect(report.recoveries).toBeGreaterThan(0);
  // Every 503 names a transient cause, never a chain verdict.
  expect(Object.keys(report.codes).filter((c) => !/unavailable$/.test(c))).toEqual([]);
}, 120_000);
