// Part 3, the hot path: the same Express JSON route without and with this project's middleware,
// token fresh, driven by autocannon; Redis commands counted per cache hit and per rotation.

import autocannon from 'autocannon';
import type { AppProcess, BenchEnvironment } from '../environment';
import type { Plan } from '../plan';
import { ACCOUNT_HEADER } from '../processes/app-server';
import { type CommandCalls, addCalls, commandDelta, countCommands, totalCalls } from '../redis/redis-probe';
import { median, round1 } from '../stats-math';

export interface HotPathRun {
  rps: number;
  requests: number;
  /** Server CPU time per request (user + system), µs: what a request costs, whatever the scheduling. */
  serverCpuUsPerRequest: number;
  /** Medians over the rounds of autocannon's p50 and p99. */
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers and errors. */
  failures: number;
}

export interface HotPathResult {
  bare: HotPathRun;
  middleware: HotPathRun;
  /**
   * The same route with a middleware that attaches a constant token instead: what a second Express
   * handler, the user lookup and the longer answer cost without the library.
   */
  constant: HotPathRun;
  /** middleware rps / bare rps, over all rounds. */
  ratio: number;
  /** The median of each round pair's ratio: a neighbour's job that starts mid-run skews one pair only. */
  pairRatioMedian: number;
  /** Redis commands during the middleware rounds, per request (sweeper off, nothing else connected). */
  redisCommandsPerHit: number;
  commandsDuringMiddlewareRun: CommandCalls;
  /** The manager's own counters over all rounds (the bare route never calls it). */
  cacheHits: number;
  storeReads: number;
  /** Commands the app sent for one lone request that finds its token expired and rotates (MONITOR). */
  redisCommandsPerRotation: number;
  /** Those commands, in the order Redis received them. */
  rotationCommandSequence: string[];
  /** Commands Lua scripts ran for that rotation (CAS, redlock). */
  rotationScriptedCommands: CommandCalls;
  /** In-process cost of the middleware on a cache hit, µs per call, and of an empty middleware. */
  middlewareUs: number;
  emptyMiddlewareUs: number;
  /** What one bare request costs the server at the measured rate: 1 / bare req/s, in µs. */
  bareRequestUs: number;
  connections: number;
  rounds: number;
  roundSeconds: number;
}

interface Round {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** The server process's CPU time during the round, µs. */
  serverCpuUs: number;
}

async function cannon(
  app: AppProcess,
  url: string,
  seconds: number,
  connections: number,
  headers: Record<string, string>,
): Promise<Round> {
  const cpuBefore = await app.rpc.call('cpu', {});
  const result = await autocannon({ url, duration: seconds, connections, headers });
  return {
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors,
    serverCpuUs: (await app.rpc.call('cpu', {})) - cpuBefore,
  };
}

/** Rounds of one route together: req/s over all of them, latency percentiles as their medians. */
function combine(rounds: Round[], roundSeconds: number): HotPathRun {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  return {
    rps: round1(requests / (rounds.length * roundSeconds)),
    requests,
    serverCpuUsPerRequest: round1(rounds.reduce((n, r) => n + r.serverCpuUs, 0) / Math.max(1, requests)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
  };
}

async function managerCounters(app: AppProcess): Promise<{ cacheHits: number; storeReads: number }> {
  const stats = (await app.rpc.call('stats', {})).strategies['this-project'] as {
    cacheHits: number;
    storeReads: number;
  };
  return { cacheHits: stats.cacheHits, storeReads: stats.storeReads };
}

/** One request that rotates, alone, with nothing else talking to Redis, under MONITOR. */
async function measureRotation(
  env: BenchEnvironment,
  app: AppProcess,
  accountId: string,
): Promise<{ sent: string[]; scripted: string[] }> {
  const simBefore = await env.simStats();
  const {
    value: sample,
    sent,
    scripted,
  } = await env.probe.monitor(() =>
    app.rpc.call('burst', { strategy: 'this-project', accountId, concurrency: 1 }),
  );
  const rotations = (await env.simStats()).rotations - simBefore.rotations;
  if (rotations !== 1 || !sample.statuses['200']) {
    throw new Error(
      `the rotation probe rotated ${rotations} times (statuses ${JSON.stringify(sample.statuses)})`,
    );
  }
  return { sent, scripted };
}

async function measure(env: BenchEnvironment, plan: Plan, app: AppProcess): Promise<HotPathResult> {
  const { rounds, roundSeconds, warmupSeconds, connections } = plan.hotPath;
  const strategy = 'this-project';
  const rotating = env.newAccount();
  const hot = env.newAccount();
  const [rotatingTokens] = await env.consent([rotating]);
  await app.rpc.call('seed', {
    strategy,
    grants: [{ accountId: rotating, tokens: rotatingTokens }],
    concurrency: 1,
  });
  await app.rpc.call('warm', { strategy, accountId: rotating, connections: 1 });
  await env.advance(env.accessTokenTtlMs + 1_000);
  // The hot user consents after the clock moved: fresh for the whole run.
  const [hotTokens] = await env.consent([hot]);
  await app.rpc.call('seed', { strategy, grants: [{ accountId: hot, tokens: hotTokens }], concurrency: 1 });
  await app.rpc.call('warm', { strategy, accountId: hot, connections: 1 });
  const rotation = await measureRotation(env, app, rotating);

  const base = `http://127.0.0.1:${app.port}`;
  const headers = { [ACCOUNT_HEADER]: hot };
  await cannon(app, `${base}/hot/bare`, warmupSeconds, connections, headers);
  await cannon(app, `${base}/hot/jira`, warmupSeconds, connections, headers);
  await cannon(app, `${base}/hot/constant`, warmupSeconds, connections, headers);

  const bareRounds: Round[] = [];
  const middlewareRounds: Round[] = [];
  const constantRounds: Round[] = [];
  let commands: CommandCalls = {};
  const countersBefore = await managerCounters(app);
  const runBare = async (): Promise<void> => {
    bareRounds.push(await cannon(app, `${base}/hot/bare`, roundSeconds, connections, headers));
  };
  const runMiddleware = async (): Promise<void> => {
    const before = await env.probe.commandCalls();
    middlewareRounds.push(await cannon(app, `${base}/hot/jira`, roundSeconds, connections, headers));
    commands = addCalls(commands, commandDelta(before, await env.probe.commandCalls()));
  };
  const runConstant = async (): Promise<void> => {
    constantRounds.push(await cannon(app, `${base}/hot/constant`, roundSeconds, connections, headers));
  };
  // Each route takes each place in turn: none gets a systematic advantage or penalty.
  const orders = [
    [runBare, runMiddleware, runConstant],
    [runMiddleware, runConstant, runBare],
    [runConstant, runBare, runMiddleware],
  ];
  for (let i = 0; i < rounds; i++) for (const run of orders[i % orders.length]) await run();
  const countersAfter = await managerCounters(app);
  const cost = await app.rpc.call('middlewareCost', { strategy, accountId: hot, iterations: 100_000 });
  const bare = combine(bareRounds, roundSeconds);
  const middleware = combine(middlewareRounds, roundSeconds);

  return {
    bare,
    middleware,
    constant: combine(constantRounds, roundSeconds),
    ratio: Math.round((middleware.rps / bare.rps) * 1000) / 1000,
    pairRatioMedian:
      Math.round(median(bareRounds.map((b, i) => middlewareRounds[i].requests / b.requests)) * 1000) / 1000,
    redisCommandsPerHit: totalCalls(commands) / Math.max(1, middleware.requests),
    commandsDuringMiddlewareRun: commands,
    cacheHits: countersAfter.cacheHits - countersBefore.cacheHits,
    storeReads: countersAfter.storeReads - countersBefore.storeReads,
    redisCommandsPerRotation: rotation.sent.length,
    rotationCommandSequence: rotation.sent,
    rotationScriptedCommands: countCommands(rotation.scripted),
    middlewareUs: round1(cost.perCallUs),
    emptyMiddlewareUs: round1(cost.emptyUs),
    bareRequestUs: round1(1e6 / bare.rps),
    connections,
    rounds,
    roundSeconds,
  };
}

export async function runHotPath(
  env: BenchEnvironment,
  plan: Plan,
  execArgv?: string[],
): Promise<HotPathResult> {
  const [app] = await env.spawnApps(1, {
    strategies: ['this-project'],
    keyPrefix: 'hot:',
    // The sweeper reads Redis every 5 s whatever the traffic; off, every command counted is the route's.
    sweeper: false,
    execArgv,
  });
  try {
    return await measure(env, plan, app);
  } finally {
    await env.stopApps([app]);
  }
}
