// Part 1, the burst: one user's token expired (or, with refresh-ahead, about to), P app processes
// each get C concurrent requests at once; each cell repeated, latencies pooled over its trials.

import { DEFAULTS } from 'jira-token-rotation';
import type { AppProcess, BenchEnvironment } from '../environment';
import type { Plan } from '../plan';
import { latencySummary, round1 } from '../stats-math';
import type { StrategyName } from '../strategies/types';
import { type BurstPhases, burstPhases } from './burst-phases';
import { type BurstTrial, type Scenario, runBurstTrial } from './burst-trial';

/** A row of part 1: a strategy and the state the burst finds the token in. */
export interface BurstStrategy {
  label: 'no token (floor)' | 'naive' | 'single-flight' | 'this project' | 'this project + refresh-ahead';
  route: StrategyName;
  scenario: Scenario;
}

export interface BurstRow {
  strategy: BurstStrategy['label'];
  processes: number;
  concurrency: number;
  /** Bursts run for this cell (a fresh user each). */
  trials: number;
  /** Rotations per burst, the worst trial (the simulator's count). */
  rotations: number;
  /** Refreshes with the just-retired token inside the leeway, per burst, the worst trial: each forked the chain. */
  leewayReuses: number;
  /** Revoked families over all trials: during the bursts plus at the next refresh after the leeway. */
  revocations: number;
  /** Of those, the ones revoked during the bursts themselves. */
  revocationsDuringBurst: number;
  /** Answers other than 200, over all trials. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverP50Ms: number;
  serverP99Ms: number;
  serverMaxMs: number;
  /** Time in the token middleware (handler entry to `next()`), successful requests. */
  tokenP50Ms: number;
  tokenP99Ms: number;
  /** The worst event-loop delay of any app process during the cell's bursts. */
  loopDelayMaxMs: number;
  /** Requests whose token middleware took at least the token endpoint's latency, over all trials. */
  waitedForRotation: number;
  /** Per trial: rotations, leeway reuses, token endpoint requests. */
  perTrial: { rotations: number; leewayReuses: number; tokenRequests: number }[];
  /** Trials whose chain was revoked by the burst or by the next refresh after the leeway. */
  chainsRevoked: number;
  /** This project, token expired: where the time went (medians over the trials). */
  phases?: BurstPhases;
}

/** The strategies of part 1; the refresh-ahead row exists once the manager has the option. */
export function burstStrategies(): BurstStrategy[] {
  const rows: BurstStrategy[] = [
    { label: 'no token (floor)', route: 'no-token', scenario: 'expired' },
    { label: 'naive', route: 'naive', scenario: 'expired' },
    { label: 'single-flight', route: 'single-flight', scenario: 'expired' },
    { label: 'this project', route: 'this-project', scenario: 'expired' },
  ];
  if ('refreshAheadMs' in DEFAULTS) {
    rows.push({ label: 'this project + refresh-ahead', route: 'this-project', scenario: 'refresh-ahead' });
  }
  return rows;
}

function errorsOf(trial: BurstTrial): number {
  return trial.samples.reduce(
    (n, s) => n + Object.entries(s.statuses).reduce((m, [code, c]) => m + (code === '200' ? 0 : c), 0),
    0,
  );
}

export function aggregate(
  strategy: BurstStrategy,
  processes: number,
  concurrency: number,
  trials: BurstTrial[],
  tokenLatencyMs: number,
): BurstRow {
  const samples = trials.flatMap((t) => t.samples);
  const client = latencySummary(samples.flatMap((s) => s.clientMs));
  const server = latencySummary(samples.flatMap((s) => s.serverMs));
  const tokenMs = samples.flatMap((s) => s.tokenMs);
  const token = latencySummary(tokenMs);
  return {
    strategy: strategy.label,
    processes,
    concurrency,
    trials: trials.length,
    rotations: Math.max(...trials.map((t) => t.rotations)),
    leewayReuses: Math.max(...trials.map((t) => t.leewayReuses)),
    revocations: trials.reduce((n, t) => n + t.revocations + t.nextRevocations, 0),
    revocationsDuringBurst: trials.reduce((n, t) => n + t.revocations, 0),
    errors: trials.reduce((n, t) => n + errorsOf(t), 0),
    p50Ms: client.p50,
    p99Ms: client.p99,
    maxMs: client.max,
    serverP50Ms: server.p50,
    serverP99Ms: server.p99,
    serverMaxMs: server.max,
    tokenP50Ms: token.p50,
    tokenP99Ms: token.p99,
    loopDelayMaxMs: round1(Math.max(...samples.map((s) => s.loopDelayMaxMs))),
    waitedForRotation: tokenMs.filter((ms) => ms >= tokenLatencyMs).length,
    perTrial: trials.map(({ rotations, leewayReuses, tokenRequests }) => ({
      rotations,
      leewayReuses,
      tokenRequests,
    })),
    phases:
      strategy.route === 'this-project' && strategy.scenario === 'expired'
        ? (burstPhases(trials) ?? undefined)
        : undefined,
    chainsRevoked: trials.filter((t) => t.revocations + t.nextRevocations > 0 || t.nextStatus !== 200).length,
  };
}

/**
 * Runs every strategy's code paths in every process before anything is measured: each process
 * once as the rotating holder (alone; full runs only), then one burst across all of them. Without
 * it the first cells would pay for the JIT, not for the strategy.
 */
async function warmUp(
  env: BenchEnvironment,
  apps: AppProcess[],
  group: number,
  each: boolean,
): Promise<void> {
  for (const strategy of burstStrategies()) {
    if (each) {
      for (const app of apps.slice(0, group)) {
        await runBurstTrial(env, [app], strategy.route, strategy.scenario, 10);
      }
    }
    await runBurstTrial(env, apps.slice(0, group), strategy.route, strategy.scenario, 50);
  }
}

/** The sweep: every strategy × P × C, on app processes that carry every strategy. */
export async function runBurst(
  env: BenchEnvironment,
  apps: AppProcess[],
  plan: Plan,
  onRow: (row: BurstRow) => void,
): Promise<BurstRow[]> {
  const { processes: sweepP, concurrency: sweepC, trials, warmEachProcess } = plan.burst;
  await warmUp(env, apps, Math.max(...sweepP), warmEachProcess);
  const rows: BurstRow[] = [];
  for (const strategy of burstStrategies()) {
    for (const processes of sweepP) {
      for (const concurrency of sweepC) {
        const done: BurstTrial[] = [];
        for (let i = 0; i < trials; i++) {
          done.push(
            await runBurstTrial(
              env,
              apps.slice(0, processes),
              strategy.route,
              strategy.scenario,
              concurrency,
            ),
          );
        }
        const row = aggregate(strategy, processes, concurrency, done, plan.tokenLatencyMs);
        rows.push(row);
        onRow(row);
      }
    }
  }
  return rows;
}
