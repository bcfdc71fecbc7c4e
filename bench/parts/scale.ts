// Part 4, scale: many users whose access tokens expire together, each requested by two of four
// app processes at once. Counts rotations, their rate, the keys and memory left, process RSS.

import type { AppProcess, BenchEnvironment } from '../environment';
import type { Plan } from '../plan';
import { type RotationFigures, expireAndRequest, rotationFigures, seedUsers } from './rotate-users';

export interface ScaleResult extends RotationFigures {
  requests: number;
  seedMs: number;
  /** Per app process during the run: worst event-loop delay, and CPU time used. */
  loopDelayMaxMs: number[];
  cpuMs: number[];
  /** Lock keys under the run's prefix after the run (locks must not leak). */
  leakedKeys: number;
  /** Keys under the part's prefix after the run, by kind. */
  keysLeft: Record<string, number>;
  /** used_memory after the run minus before seeding, and per user. */
  redisMemoryDeltaBytes: number;
  redisBytesPerUser: number;
  /** used_memory after deleting the part's keys, minus before seeding. */
  redisMemoryAfterCleanupBytes: number;
  rssBeforeMiB: number[];
  rssAfterMiB: number[];
  simulatorRssMiB: number;
  /** Sum over processes of the manager's counters that tell a race happened. */
  managers: { rotations: number; lostCas: number; siblingAdopted: number; backgroundFailures: number };
}

const MiB = 1024 * 1024;
const KEY_PREFIX = 'scale:';

/** What a key under the part's prefix is (see RedisTokenStore and RedlockRefreshLock). */
function kindOf(key: string): string {
  if (key.includes(':lock:')) return 'lock';
  if (key.includes(':u:')) return 'record';
  if (key.endsWith(':users')) return 'tenant set';
  if (key.includes('{idx:')) return 'index';
  return 'other';
}

async function rssMiB(apps: AppProcess[]): Promise<number[]> {
  const stats = await Promise.all(apps.map((app) => app.rpc.call('stats', {})));
  return stats.map((s) => Math.round(s.rss / MiB));
}

export async function runScale(env: BenchEnvironment, plan: Plan, execArgv?: string[]): Promise<ScaleResult> {
  const { processes, requestsPerUser, window } = plan.scale;
  const users = env.scaleAccounts;
  const prefix = `${env.runPrefix}${KEY_PREFIX}`;
  const apps = await env.spawnApps(processes, {
    strategies: ['this-project'],
    keyPrefix: KEY_PREFIX,
    sweeper: true,
    execArgv,
  });
  try {
    const memoryBefore = await env.probe.usedMemory();
    const seedMs = await seedUsers(env, apps, users);
    const rssBefore = await rssMiB(apps);
    const run = await expireAndRequest(env, apps, users, { requestsPerUser, window });
    const { samples } = run;
    const stats = await Promise.all(apps.map((app) => app.rpc.call('stats', {})));

    const keys = await env.probe.keys(prefix);
    const keysLeft: Record<string, number> = {};
    for (const key of keys) keysLeft[kindOf(key)] = (keysLeft[kindOf(key)] ?? 0) + 1;
    const memoryAfter = await env.probe.usedMemory();
    await env.probe.deleteUnder(prefix);
    const memoryCleaned = await env.probe.usedMemory();

    const managerSum = (field: string): number =>
      stats.reduce(
        (n, s) => n + Number((s.strategies['this-project'] as Record<string, unknown>)[field] ?? 0),
        0,
      );
    return {
      ...rotationFigures(run, users.length, processes),
      requests: samples.reduce((n, s) => n + s.requests, 0),
      seedMs: Math.round(seedMs),
      loopDelayMaxMs: samples.map((s) => Math.round(s.loopDelayMaxMs)),
      cpuMs: samples.map((s) => Math.round(s.cpuMs)),
      leakedKeys: keysLeft.lock ?? 0,
      keysLeft,
      redisMemoryDeltaBytes: memoryAfter - memoryBefore,
      redisBytesPerUser: Math.round((memoryAfter - memoryBefore) / users.length),
      redisMemoryAfterCleanupBytes: memoryCleaned - memoryBefore,
      rssBeforeMiB: rssBefore,
      rssAfterMiB: stats.map((s) => Math.round(s.rss / MiB)),
      simulatorRssMiB: Math.round((await env.simRss()) / MiB),
      managers: {
        rotations: managerSum('rotations'),
        lostCas: managerSum('lostCas'),
        siblingAdopted: managerSum('siblingAdopted'),
        backgroundFailures: managerSum('backgroundFailures'),
      },
    };
  } finally {
    await env.stopApps(apps);
  }
}
