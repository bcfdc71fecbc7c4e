// The machinery of the parts that rotate many users at once (scale, topologies): save each
// user's consent through the app processes, expire every access token together, then request
// each user from `requestsPerUser` processes with at most `window` requests in flight per process.

import { performance } from 'node:perf_hooks';
import type { AppProcess, BenchEnvironment } from '../environment';
import type { LoadSample } from '../processes/app-protocol';
import { latencySummary } from '../stats-math';

/** User i goes to processes i mod P, (i + 1) mod P, …: with 2 or more, every rotation races another process. */
export function shareOf(users: string[], process: number, processes: number, perUser: number): string[] {
  return users.filter((_, i) => {
    for (let k = 0; k < perUser; k++) if ((i + k) % processes === process) return true;
    return false;
  });
}

/** Consents for `users`, saved by this project's manager, user i by process i mod P. Resolves to the ms taken. */
export async function seedUsers(env: BenchEnvironment, apps: AppProcess[], users: string[]): Promise<number> {
  const tokens = await env.consent(users);
  const start = performance.now();
  await Promise.all(
    apps.map((app, p) =>
      app.rpc.call('seed', {
        strategy: 'this-project',
        grants: users.flatMap((accountId, i) =>
          i % apps.length === p ? [{ accountId, tokens: tokens[i] }] : [],
        ),
        concurrency: 50,
      }),
    ),
  );
  return performance.now() - start;
}

export interface RotationRun {
  samples: LoadSample[];
  /** From 'go' to the last answer of the last process (each answers once its background work settled). */
  elapsedMs: number;
  /** The simulator's counts during the run. */
  rotations: number;
  leewayReuses: number;
  revocations: number;
  /** Answers other than 200. */
  errors: number;
}

/** Expires every access token, then requests every user; the simulator counts what it cost. */
export async function expireAndRequest(
  env: BenchEnvironment,
  apps: AppProcess[],
  users: string[],
  load: { requestsPerUser: number; window: number },
): Promise<RotationRun> {
  await env.advance(env.accessTokenTtlMs + 1_000);
  const before = await env.simStats();
  const start = performance.now();
  const samples = await Promise.all(
    apps.map((app, p) =>
      app.rpc.call('load', {
        strategy: 'this-project',
        accountIds: shareOf(users, p, apps.length, load.requestsPerUser),
        window: load.window,
      }),
    ),
  );
  const elapsedMs = performance.now() - start;
  const after = await env.simStats();
  return {
    samples,
    elapsedMs,
    rotations: after.rotations - before.rotations,
    leewayReuses: after.leewayReuses - before.leewayReuses,
    revocations: after.revocations - before.revocations,
    errors: samples.reduce(
      (n, s) => n + Object.entries(s.statuses).reduce((m, [code, c]) => m + (code === '200' ? 0 : c), 0),
      0,
    ),
  };
}

/** What many rotations cost the chains and how fast they went, as parts 4 and 5 report it. */
export interface RotationFigures {
  users: number;
  processes: number;
  /** The simulator's counts (expected: exactly `users` rotations, and nothing else). */
  rotations: number;
  leewayReuses: number;
  revocations: number;
  errors: number;
  /** From 'go' to the last answer of the last process. */
  elapsedMs: number;
  rotationsPerSecond: number;
  /** Request latencies, as the load generators measured them. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function rotationFigures(run: RotationRun, users: number, processes: number): RotationFigures {
  const latency = latencySummary(run.samples.flatMap((s) => s.clientMs));
  return {
    users,
    processes,
    rotations: run.rotations,
    leewayReuses: run.leewayReuses,
    revocations: run.revocations,
    errors: run.errors,
    elapsedMs: Math.round(run.elapsedMs),
    rotationsPerSecond: Math.round(run.rotations / (run.elapsedMs / 1000)),
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    maxMs: latency.max,
  };
}
