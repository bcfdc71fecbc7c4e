// `npm run bench`: the four parts of issue 4 and issue 13's topologies in one run, tables on stdout, bench/results/latest.json,
// and with `--json` one last stdout line holding the whole result.

import { performance } from 'node:perf_hooks';
import { USAGE, parseArgs } from './args';
import { BenchEnvironment } from './environment';
import { type Interference, meterInterference } from './interference';
import { currentLoad, describeMachine, sampleBusy } from './machine';
import { type BurstRow, runBurst } from './parts/burst';
import { runHotPath } from './parts/hot-path';
import { runScale } from './parts/scale';
import { type TopologyRow, runTopologies } from './parts/topologies';
import { runWakeup } from './parts/wakeup';
import { makePlan } from './plan';
import {
  type Table,
  burstCostTable,
  burstLatencyTable,
  hotPathTable,
  phasesTable,
  scaleTable,
  wakeupTable,
} from './report/part-tables';
import { renderTable } from './report/table';
import { topologiesTable } from './report/topology-table';
import { PROFILES_DIR, type PartResults, judgeTargets, summarize, writeResults } from './results';
import { STRATEGY_NAMES } from './strategies/types';

/** Progress goes to stderr, so stdout holds the tables and, last, the JSON line. */
const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

function print(table: Table): void {
  process.stdout.write(`\n${table.title}\n\n${renderTable(table.headers, table.rows)}\n`);
  for (const note of table.notes) process.stdout.write(`  ${note}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = makePlan(args.quick);
  const started = performance.now();
  // Whatever happens, the run ends: children exit when we do, the dedicated Redis is killed on exit.
  const watchdog = setTimeout(
    () => {
      progress('watchdog: the run took too long; stopping');
      process.exit(2);
    },
    args.quick ? 3 * 60_000 : 20 * 60_000,
  );
  watchdog.unref();
  const execArgv = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES_DIR}`] : undefined;
  const has = (part: (typeof args.parts)[number]): boolean => args.parts.includes(part);

  const startedAt = { date: new Date(), load: currentLoad(), busyPct: await sampleBusy(1_000) };
  if (startedAt.busyPct > 20) {
    progress(
      `WARNING: the machine was ${startedAt.busyPct}% busy before the run (load ${startedAt.load}); ` +
        'latencies will include other processes’ work',
    );
  }
  progress(`${plan.mode} run; starting Redis, the simulator and the app processes`);
  const env = await BenchEnvironment.start(plan);
  progress(`Redis ${env.redis.dedicated ? 'dedicated' : 'SHARED (counts approximate)'} at ${env.redis.url}`);
  const parts: PartResults = {};
  const tables: Table[] = [];
  const interference: Record<string, Interference | null> = {};
  /** Prints a part's table, with how much of the machine other processes took meanwhile. */
  const show = (table: Table, part?: string, busy?: Interference | null): void => {
    if (part && busy) {
      interference[part] = busy;
      table.notes.push(
        `Machine during this part: ${busy.machineBusyPct}% busy, ${busy.oursPct}% this run, ` +
          `${busy.othersPct}% other processes.`,
      );
    }
    tables.push(table);
    print(table);
  };
  try {
    if (has('burst') || has('wakeup')) {
      const count = Math.max(...plan.burst.processes, plan.wakeup.processes);
      const apps = await env.spawnApps(count, {
        strategies: [...STRATEGY_NAMES],
        keyPrefix: 'burst:',
        sweeper: true,
        execArgv,
      });
      if (has('burst')) {
        const meter = meterInterference(env);
        parts.burst = await runBurst(env, apps, plan, (r: BurstRow) =>
          progress(
            `burst ${r.strategy} P=${r.processes} C=${r.concurrency}: ${r.rotations} rotations, ` +
              `${r.leewayReuses} reuses, ${r.revocations} revocations, p99 ${r.p99Ms} ms`,
          ),
        );
        show(burstCostTable(parts.burst));
        show(burstLatencyTable(parts.burst, plan.tokenLatencyMs), 'burst', meter());
        show(phasesTable(parts.burst));
      }
      if (has('wakeup')) {
        progress('wake-up');
        const meter = meterInterference(env);
        parts.wakeup = await runWakeup(env, apps, plan);
        show(wakeupTable(parts.wakeup, plan.wakeup.processes, plan.wakeup.concurrency), 'wakeup', meter());
      }
      await env.stopApps(apps);
    }
    if (has('hot')) {
      progress('hot path');
      const meter = meterInterference(env);
      parts.hotPath = await runHotPath(env, plan, execArgv);
      show(hotPathTable(parts.hotPath), 'hotPath', meter());
    }
    if (has('scale')) {
      progress(`scale: ${plan.scale.users} users`);
      const meter = meterInterference(env);
      parts.scale = await runScale(env, plan, execArgv);
      show(scaleTable(parts.scale), 'scale', meter());
    }
    if (has('topologies')) {
      progress(`topologies: ${plan.topologies.users} users on each`);
      const meter = meterInterference(env);
      parts.topologies = await runTopologies(
        env,
        plan,
        (r: TopologyRow) =>
          progress(
            `topologies ${r.topology}: ${r.rotations} rotations, ${r.rotationsPerSecond}/s, ` +
              `${r.commandsPerRotation} commands/rotation, ${r.errors} errors`,
          ),
        execArgv,
      );
      show(topologiesTable(parts.topologies), 'topologies', meter());
    }
  } finally {
    await env.close();
  }

  const targets = judgeTargets(parts, plan);
  const verdicts: Table = {
    title: 'Targets',
    headers: ['target', 'measured', 'met'],
    rows: targets.map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO']),
    notes: [],
  };
  show(verdicts);
  const summary = {
    ...summarize(parts, plan, describeMachine(env.redis.version, startedAt), env.redis.dedicated),
    interference,
  };
  const file = writeResults(summary, tables);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\nWrote ${file} (${seconds} s)\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (error instanceof TypeError && String(error.message).includes('--')) process.stderr.write(`${USAGE}\n`);
  process.exitCode = 1;
});
