// One burst trial: a fresh user, seeded and warmed in P processes, the clock moved so the token is
// expired (or inside the refresh-ahead window), one 'go', then the next refresh after the leeway.

import { DEFAULTS } from 'jira-token-rotation';
import type { AppProcess, BenchEnvironment } from '../environment';
import type { BurstSample } from '../processes/app-protocol';
import type { StrategyName } from '../strategies/types';

export type Scenario = 'expired' | 'refresh-ahead';

export interface BurstTrial {
  samples: BurstSample[];
  /** The simulator's counts during the burst. */
  rotations: number;
  leewayReuses: number;
  revocations: number;
  tokenRequests: number;
  /** Revocations caused by the next refresh, after the leeway. */
  nextRevocations: number;
  /** Status of that next refresh. */
  nextStatus: number;
}

/**
 * How far to move the clock after seeding so that the burst finds the token expired, or halfway
 * into the refresh-ahead window (past it the token would count as expired, not ahead).
 */
export function advanceFor(scenario: Scenario, ttlMs: number): number {
  if (scenario === 'expired') return ttlMs + 1_000;
  const defaults = DEFAULTS as unknown as { refreshAheadMs: number; expiryMarginMs: number };
  const window = Math.min(defaults.refreshAheadMs, ttlMs / 5);
  const margin = Math.min(defaults.expiryMarginMs, ttlMs / 5);
  return ttlMs - Math.round((window + margin) / 2);
}

export async function runBurstTrial(
  env: BenchEnvironment,
  group: AppProcess[],
  strategy: StrategyName,
  scenario: Scenario,
  concurrency: number,
): Promise<BurstTrial> {
  const accountId = env.newAccount();
  const [tokens] = await env.consent([accountId]);
  await group[0].rpc.call('seed', { strategy, grants: [{ accountId, tokens }], concurrency: 1 });
  await Promise.all(
    group.map((app) => app.rpc.call('warm', { strategy, accountId, connections: concurrency })),
  );
  await env.advance(advanceFor(scenario, env.accessTokenTtlMs));

  const before = await env.simStats();
  // The 'go': every process is warm and waiting; the messages leave together.
  const samples = await Promise.all(
    group.map((app) => app.rpc.call('burst', { strategy, accountId, concurrency })),
  );
  const during = await env.simStats();

  // The cost of a fork shows at the next refresh after the leeway: a retired token revokes.
  await env.advance(env.accessTokenTtlMs + 1_000);
  const next = await group[0].rpc.call('burst', { strategy, accountId, concurrency: 1 });
  const after = await env.simStats();
  return {
    samples,
    rotations: during.rotations - before.rotations,
    leewayReuses: during.leewayReuses - before.leewayReuses,
    revocations: during.revocations - before.revocations,
    tokenRequests: during.tokenRequests - before.tokenRequests,
    nextRevocations: after.revocations - during.revocations,
    nextStatus: Number(Object.keys(next.statuses)[0]),
  };
}
