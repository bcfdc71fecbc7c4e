// The recovery probes of `npm run chaos` (chaos/recovery/), each run once with short budgets (the
// chaos run uses the production defaults; the fault tests assert the time bounds): a dead holder,
// a Redis blip and a Sentinel failover each end with every call served, nothing revoked, every
// user's stored refresh token the simulator's current one, and the figure reported.

import type { TokenManagerOptions } from 'jira-token-rotation';
import { probeDeadHolder } from '../../chaos/recovery/dead-holder';
import { probeFailover } from '../../chaos/recovery/failover';
import type { ProbeOutcome, RecoveryProbeOptions } from '../../chaos/recovery/probe-kit';
import { probeRedisBlip } from '../../chaos/recovery/redis-blip';
import { CHAOS_WORKER } from '../support/test-children';

// Budgets nest as invariant 10 requires (request timeout × attempts < lease < lock TTL), short
// enough that a probe waits seconds for a dead holder's lease, not the default 25 s.
const BUDGETS: Partial<TokenManagerOptions> = {
  requestTimeoutMs: 1_000,
  tokenRequestAttempts: 2,
  leaseMs: 2_500,
  lockTtlMs: 3_000,
  waitTimeoutMs: 10_000,
  noticeTimeoutMs: 200,
  recoveryIntervalMs: 100,
  inDoubtRetryMs: 500,
};
// Each wait of a probe is capped at 30 s and fails it with its reason; a test's own timeout (120 s)
// only has to outlast a few of those caps on a loaded machine. Alone, on 2 idle cores, a probe takes
// 4–12 s.
const OPTIONS: RecoveryProbeOptions = { workerPath: CHAOS_WORKER, managerOptions: BUDGETS, capMs: 30_000 };

function expectRecovered(outcome: ProbeOutcome, calls: number): void {
  expect(outcome.answers).toMatchObject({ ok: calls, unserved: 0, otherAnswers: 0, other: [] });
  expect(outcome.sim).toMatchObject({ revocations: 0, invalidGrant: 0 });
  expect(outcome.storedRefreshTokenCurrent).toBe(true);
  expect(outcome.unhandled).toBe(0);
  expect(outcome.leaked).toEqual([]);
}

test('dead holder: every waiter and a new burst are served, nothing revoked, and the figure is reported', async () => {
  const result = await probeDeadHolder(OPTIONS);
  expectRecovered(result, 40);
  // The holder's request committed, so the survivors recovered the chain by one leeway reuse.
  expect(result.sim).toMatchObject({ rotations: 1, leewayReuses: 1 });
  expect(result.firstServedMs).toBeGreaterThan(0);
  expect(result.recoveryMs).toBeGreaterThanOrEqual(result.firstServedMs);
}, 120_000);

test('Redis blip: all 200 calls are served after Redis comes back, nothing revoked, and the figure is reported', async () => {
  const result = await probeRedisBlip(OPTIONS);
  expectRecovered(result, 200);
  expect(result.sim.rotations).toBe(1);
  expect(result.recoveryMs).toBeGreaterThanOrEqual(0);
}, 120_000);

test('Sentinel failover: every user is served again after the promotion, nothing revoked, and the figure is reported', async () => {
  const result = await probeFailover(OPTIONS);
  expectRecovered(result, 80);
  expect(result.promotionMs).toBeGreaterThan(0);
  expect(result.recoveryMs).toBeGreaterThanOrEqual(0);
  expect(result.fromKillMs).toBeCloseTo(result.promotionMs + result.recoveryMs, 6);
}, 120_000);
