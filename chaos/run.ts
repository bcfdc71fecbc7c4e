// `npm run chaos -- [--rounds N] [--processes P] [--concurrency C] [--users U] [--seed S] [--json]`:
// the chaos scenario at any size, then the three recovery probes (chaos/recovery/) at the package's
// production defaults. Prints a line per round and a summary; with --json the output ends with one
// line of JSON (the figures). Exits 1 when a chain suffered or a request went unserved.

import { join } from 'node:path';
import { type ChaosOptions, type ChaosReport, runChaos } from './scenario';
import {
  type RecoveryReport,
  probePassed,
  recoveryFigures,
  recoveryLines,
  runRecoveryProbes,
} from './recovery/run-recovery';

const USAGE = `Usage: npm run chaos -- [options]
  --rounds N        expiry rounds (default 50)
  --processes P     app processes sharing Redis (default 4)
  --concurrency C   concurrent requests per process per round (default 20)
  --users U         users, each with a token chain (default 4)
  --seed S          seed of the simulator's chaos (default 1)
  --redis-url URL   the Redis to share (default $REDIS_URL or redis://127.0.0.1:6379)
  --recovery-only   only the recovery probes (dead holder, Redis blip, failover), no rounds
  --no-recovery     only the rounds, no recovery probes
  --json            end the output with one line of JSON: the figures`;

type Numeric = 'rounds' | 'processes' | 'concurrency' | 'users' | 'seed';
const NUMERIC: Record<string, Numeric> = {
  '--rounds': 'rounds',
  '--processes': 'processes',
  '--concurrency': 'concurrency',
  '--users': 'users',
  '--seed': 'seed',
};

interface Args {
  options: ChaosOptions;
  json: boolean;
  rounds: boolean;
  recovery: boolean;
}

function parseArgs(argv: string[]): Args {
  const options: ChaosOptions = {
    rounds: 50,
    processes: 4,
    concurrency: 20,
    users: 4,
    seed: 1,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    workerPath: join(__dirname, 'chaos-child.js'),
  };
  let json = false;
  let rounds = true;
  let recovery = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--recovery-only') rounds = false;
    else if (arg === '--no-recovery') recovery = false;
    else if (arg === '--redis-url' && argv[i + 1]) options.redisUrl = argv[++i];
    else if (arg in NUMERIC && /^\d+$/.test(argv[i + 1] ?? '') && Number(argv[i + 1]) > 0) {
      options[NUMERIC[arg]] = Number(argv[++i]);
    } else {
      throw new RangeError(`Unknown or malformed argument: ${arg}\n${USAGE}`);
    }
  }
  if (!rounds && !recovery)
    throw new RangeError(`--recovery-only and --no-recovery leave nothing to run\n${USAGE}`);
  return { options, json, rounds, recovery };
}

/** The run passed when no chain suffered, every request was served, and nothing leaked. */
function passed({ figures: f, leaked }: ChaosReport): boolean {
  return (
    f.revocations === 0 &&
    f.reauthorizationRequired === 0 &&
    f.lostChains === 0 &&
    f.unhandled === 0 &&
    f.ok + f.served503 === f.requests &&
    leaked.length === 0
  );
}

async function main(): Promise<void> {
  const { options, json, rounds, recovery } = parseArgs(process.argv.slice(2));
  const chaos = rounds ? await chaosRounds(options) : undefined;
  let probes: RecoveryReport | undefined;
  if (recovery) {
    console.log('recovery probes: production defaults, each on a Redis of its own');
    probes = await runRecoveryProbes({ workerPath: options.workerPath }, (line) => console.log(line));
    console.log(recoveryLines(probes).join('\n'));
  }
  const ok =
    (!chaos || passed(chaos)) && (!probes || Object.values(probes).every((outcome) => probePassed(outcome)));
  console.log(`verdict             ${ok ? 'PASS' : 'FAIL'}`);
  if (json) console.log(JSON.stringify({ ...chaos?.figures, ...(probes && recoveryJson(probes)) }));
  process.exitCode = ok ? 0 : 1;
}

async function chaosRounds(options: ChaosOptions): Promise<ChaosReport> {
  console.log(
    `chaos: ${options.processes} processes × ${options.concurrency} requests × ${options.rounds} rounds, ` +
      `${options.users} users, seed ${options.seed}`,
  );
  const report = await runChaos({ ...options, log: (line) => console.log(line) });
  const { figures: f, sim } = report;
  console.log(
    [
      `requests            ${f.requests}`,
      `ok (valid token)    ${f.ok}`,
      `503 + Retry-After   ${f.served503} ${JSON.stringify(report.codes)}`,
      `revocations         ${f.revocations}`,
      `reauthorization     ${f.reauthorizationRequired}`,
      `lost chains         ${f.lostChains}`,
      `unhandled           ${f.unhandled}`,
      `simulator           ${sim.tokenRequests} token requests, ${sim.rotations} rotations, ${sim.leewayReuses} leeway reuses`,
      `chaos applied       ${JSON.stringify(sim.chaos)}`,
      `in doubt (entered)  ${JSON.stringify(report.inDoubt)}; recovered ${report.recoveries}`,
      `duration            ${(report.durationMs / 1000).toFixed(1)} s`,
      `rounds              ${passed(report) ? 'PASS' : 'FAIL'}`,
    ].join('\n'),
  );
  if (report.otherAnswers.length > 0) console.log('unserved answers:', JSON.stringify(report.otherAnswers));
  if (report.leaked.length > 0) console.log('secrets in logs:', JSON.stringify(report.leaked));
  return report;
}

/** The probes' figures, and per probe the simulator's counts and the closing checks behind them. */
function recoveryJson(probes: RecoveryReport): Record<string, unknown> {
  const facts = Object.fromEntries(
    Object.entries(probes).map(([name, o]) => [
      name,
      {
        sim: o.sim,
        storedRefreshTokenCurrent: o.storedRefreshTokenCurrent,
        served503: o.answers.served503,
        otherAnswers: o.answers.otherAnswers,
        unserved: o.answers.unserved,
      },
    ]),
  );
  return {
    ...recoveryFigures(probes),
    deadHolderFirstServedMs: Math.round(probes.deadHolder.firstServedMs),
    failoverFromKillMs: Math.round(probes.failover.fromKillMs),
    recovery: facts,
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
