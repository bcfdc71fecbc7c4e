// Part 2, waiter wake-up: how much longer a cross-process burst takes than one lone refresh,
// with waiters woken by the pub/sub notice and with waiters that can only poll.

import type { AppProcess, BenchEnvironment } from '../environment';
import type { Plan } from '../plan';
import { median, round1 } from '../stats-math';
import type { StrategyName } from '../strategies/types';

export interface WakeupVariant {
  label: string;
  route: StrategyName;
  /** The polling period, for polling variants. */
  pollIntervalMs?: number;
}

export const WAKEUP_VARIANTS: WakeupVariant[] = [
  { label: 'pub/sub notice', route: 'this-project' },
  { label: 'polling only, every 100 ms', route: 'this-project-poll-100', pollIntervalMs: 100 },
  {
    label: 'polling only, every 1 000 ms (the default re-read)',
    route: 'this-project-poll-1000',
    pollIntervalMs: 1_000,
  },
];

export interface WakeupRow {
  variant: string;
  route: StrategyName;
  pollIntervalMs?: number;
  /** Median time of one request that rotates alone (P = 1, C = 1). */
  loneMs: number;
  /** Median time from 'go' to the last answer of the burst (P × C requests). */
  burstMs: number;
  /** burstMs − loneMs: what waking the waiters costs. */
  overheadMs: number;
  /** Median completion of the same burst on the route without any token: HTTP alone. */
  floorMs: number;
  /** Rotations per burst, every repetition (expected 1 each). */
  rotationsPerBurst: number[];
}

export async function runWakeupVariant(
  env: BenchEnvironment,
  apps: AppProcess[],
  plan: Plan,
  variant: WakeupVariant,
): Promise<WakeupRow> {
  const { processes, concurrency, repetitions } = plan.wakeup;
  const group = apps.slice(0, processes);
  const strategy = variant.route;
  const lone = env.newAccount();
  const crowd = env.newAccount();
  const [loneTokens, crowdTokens] = await env.consent([lone, crowd]);
  await group[0].rpc.call('seed', {
    strategy,
    grants: [
      { accountId: lone, tokens: loneTokens },
      { accountId: crowd, tokens: crowdTokens },
    ],
    concurrency: 2,
  });
  await group[0].rpc.call('warm', { strategy, accountId: lone, connections: 1 });
  await Promise.all(
    group.map((app) => app.rpc.call('warm', { strategy, accountId: crowd, connections: concurrency })),
  );

  const loneMs: number[] = [];
  const burstMs: number[] = [];
  const floorMs: number[] = [];
  const rotationsPerBurst: number[] = [];
  // Repetition -1 is discarded: it warms this variant’s code paths in every process.
  for (let rep = -1; rep < repetitions; rep++) {
    await env.advance(env.accessTokenTtlMs + 1_000);
    const alone = await group[0].rpc.call('burst', { strategy, accountId: lone, concurrency: 1 });
    if (rep >= 0) loneMs.push(alone.completionMs);

    await env.advance(env.accessTokenTtlMs + 1_000);
    const before = await env.simStats();
    const samples = await Promise.all(
      group.map((app) => app.rpc.call('burst', { strategy, accountId: crowd, concurrency })),
    );
    const rotations = (await env.simStats()).rotations - before.rotations;
    const completion = Math.max(...samples.map((s) => s.completionMs));

    const floor = await Promise.all(
      group.map((app) => app.rpc.call('burst', { strategy: 'no-token', accountId: crowd, concurrency })),
    );
    if (rep < 0) continue;
    rotationsPerBurst.push(rotations);
    burstMs.push(completion);
    floorMs.push(Math.max(...floor.map((s) => s.completionMs)));
  }
  const loneMedian = median(loneMs);
  const burstMedian = median(burstMs);
  return {
    variant: variant.label,
    route: variant.route,
    pollIntervalMs: variant.pollIntervalMs,
    loneMs: round1(loneMedian),
    burstMs: round1(burstMedian),
    overheadMs: round1(burstMedian - loneMedian),
    floorMs: round1(median(floorMs)),
    rotationsPerBurst,
  };
}

export async function runWakeup(env: BenchEnvironment, apps: AppProcess[], plan: Plan): Promise<WakeupRow[]> {
  const rows: WakeupRow[] = [];
  for (const variant of WAKEUP_VARIANTS) rows.push(await runWakeupVariant(env, apps, plan, variant));
  return rows;
}
