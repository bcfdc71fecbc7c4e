// Each part's figures as a table (headers and rows), for the terminal and for Markdown.

import type { BurstRow } from '../parts/burst';
import type { HotPathResult } from '../parts/hot-path';
import type { ScaleResult } from '../parts/scale';
import type { WakeupRow } from '../parts/wakeup';
import type { Cell } from './table';

export interface Table {
  title: string;
  headers: string[];
  rows: Cell[][];
  notes: string[];
}

/** Part 1, what each strategy cost the user's token chain. */
export function burstCostTable(all: BurstRow[]): Table {
  // The floor makes no token request: nothing to count.
  const rows = all.filter((r) => r.strategy !== 'no token (floor)');
  return {
    title: 'Part 1 — burst: one user, P processes × C concurrent requests: what it cost the chain',
    headers: [
      'strategy',
      'P',
      'C',
      'token requests',
      'rotations',
      'leeway reuses',
      'revocations',
      'errors',
      'chains revoked',
    ],
    rows: rows.map((r) => [
      r.strategy,
      r.processes,
      r.concurrency,
      Math.max(...r.perTrial.map((t) => t.tokenRequests)),
      r.rotations,
      r.leewayReuses,
      r.revocations,
      r.errors,
      `${r.chainsRevoked}/${r.trials}`,
    ]),
    notes: [
      `Each cell: ${rows[0]?.trials ?? 0} bursts, a fresh user each. token requests, rotations and leeway reuses: per`,
      "burst, the worst trial (the simulator's counts). revocations: all trials, during the burst plus at",
      'the next refresh after the 10-minute leeway; "chains revoked": trials whose user must consent again.',
    ],
  };
}

/** Part 1, latencies. */
export function burstLatencyTable(rows: BurstRow[], tokenLatencyMs: number): Table {
  return {
    title: `Part 1 — burst latencies, ms (token endpoint answers after ${tokenLatencyMs} ms)`,
    headers: [
      'strategy',
      'P',
      'C',
      'client p50',
      'client p99',
      'client max',
      'server p50',
      'server p99',
      'server max',
      'token p99',
      'loop delay max',
      'waited',
    ],
    rows: rows.map((r) => [
      r.strategy,
      r.processes,
      r.concurrency,
      r.p50Ms,
      r.p99Ms,
      r.maxMs,
      r.serverP50Ms,
      r.serverP99Ms,
      r.serverMaxMs,
      r.tokenP99Ms,
      r.loopDelayMaxMs,
      r.waitedForRotation,
    ]),
    notes: [
      'Pooled over the trials. client = request sent to last byte, by the load generator inside each app',
      'process; server = handler entry to response finish; token = handler entry to the token middleware',
      'calling next(); loop delay max = worst event-loop delay of an app process during the bursts.',
      `waited = requests whose token middleware took ≥ ${tokenLatencyMs} ms, i.e. waited for a rotation.`,
      '"no token (floor)": the same route and bursts with no token at all, what HTTP alone costs here.',
    ],
  };
}

export function phasesTable(rows: BurstRow[]): Table {
  const withPhases = rows.filter((r) => r.phases);
  return {
    title: 'Part 1, this project — where a burst’s time goes (medians over the trials)',
    headers: [
      'P',
      'C',
      'holder: first request → token request',
      'token request → stored',
      'stored → other processes woken',
      'first token → last answer sent',
      'server p99',
    ],
    rows: withPhases.map((r) => [
      r.processes,
      r.concurrency,
      r.phases!.preRotationMs,
      r.phases!.rotationMs,
      r.phases!.wakeMs ?? undefined,
      r.phases!.drainMs,
      r.serverP99Ms,
    ]),
    notes: [
      'From marks taken in every app process (epoch ms): the holder is the process that rotated. The',
      'first phase is the read, the lock, the index entry and the lease CAS, while the same event loop parses the burst;',
      'the last is sending every waiting answer at once. "woken": the notice plus one re-read.',
    ],
  };
}

export function wakeupTable(rows: WakeupRow[], processes: number, concurrency: number): Table {
  return {
    title: `Part 2 — waiter wake-up: burst of ${processes} × ${concurrency} vs one lone refresh (medians)`,
    headers: [
      'this project, waiters woken by',
      'lone refresh ms',
      'burst ms',
      'overhead ms',
      'HTTP floor ms',
      'rotations/burst',
    ],
    rows: rows.map((r) => [
      r.variant,
      r.loneMs,
      r.burstMs,
      r.overheadMs,
      r.floorMs,
      r.rotationsPerBurst.join(' '),
    ]),
    notes: [
      "overhead = burst completion ('go' to last answer) − one lone refresh: the cost of waking the waiters.",
      'HTTP floor = the same burst on the route without any token (part of the overhead is just HTTP).',
    ],
  };
}

export function hotPathTable(result: HotPathResult): Table {
  const run = (label: string, r: HotPathResult['bare']): Cell[] => [
    label,
    r.rps,
    r.p50Ms,
    r.p99Ms,
    r.requests,
    r.failures,
    r.serverCpuUsPerRequest,
  ];
  const scripted = Object.entries(result.rotationScriptedCommands)
    .map(([command, n]) => `${command} ${n}`)
    .join(', ');
  return {
    title:
      `Part 3 — hot path: autocannon, ${result.connections} connections, ` +
      `${result.rounds} alternating rounds of ${result.roundSeconds} s per route`,
    headers: ['route', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx + errors', 'server CPU µs/request'],
    rows: [
      run('bare JSON route', result.bare),
      run('same route + tokens.middleware()', result.middleware),
      run('same route + a constant req.jira (framework floor)', result.constant),
    ],
    notes: [
      `ratio (middleware / bare req/s): ${result.ratio} over all rounds; median of the round pairs' ` +
        `ratios: ${result.pairRatioMedian}. p50 and p99: medians over the rounds.`,
      `framework floor: a second Express handler that resolves the user and attaches a constant ` +
        `req.jira, answering the same bytes as the token route, with no library call ` +
        `(constant / bare req/s: ${Math.round((result.constant.rps / result.bare.rps) * 1000) / 1000}).`,
      `In-process cost of the middleware on a cache hit: ${result.middlewareUs} µs per call ` +
        `(an empty middleware: ${result.emptyMiddlewareUs} µs); at the bare rate the server takes one ` +
        `request every ${result.bareRequestUs} µs.`,
      `Redis commands per request on a process-cache hit: ${result.redisCommandsPerHit} ` +
        `(${JSON.stringify(result.commandsDuringMiddlewareRun)} over ${result.middleware.requests} requests; ` +
        `manager: ${result.cacheHits} cache hits, ${result.storeReads} store reads)`,
      `Redis commands per rotation (one lone request that finds its token expired, MONITOR): ` +
        `${result.redisCommandsPerRotation} sent: ${result.rotationCommandSequence.join(' → ')}`,
      `  and inside Lua scripts: ${scripted}`,
    ],
  };
}

export function scaleTable(result: ScaleResult): Table {
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return {
    title: `Part 4 — scale: ${result.users.toLocaleString('en-US')} users expiring together, ${result.processes} processes`,
    headers: ['figure', 'value'],
    rows: [
      ['users', result.users],
      ['requests (each user from 2 processes at once)', result.requests],
      ['rotations', result.rotations],
      [
        'leeway reuses / revocations / errors',
        `${result.leewayReuses} / ${result.revocations} / ${result.errors}`,
      ],
      ['elapsed (go → last answer)', `${result.elapsedMs} ms`],
      ['rotations per second', result.rotationsPerSecond],
      ['request latency p50 / p99 / max', `${result.p50Ms} / ${result.p99Ms} / ${result.maxMs} ms`],
      ['lock keys left (leaked)', result.leakedKeys],
      ['keys left by kind', JSON.stringify(result.keysLeft)],
      [
        'Redis memory after − before',
        `${mib(result.redisMemoryDeltaBytes)} (${result.redisBytesPerUser} B/user)`,
      ],
      ['Redis memory after deleting the keys − before', mib(result.redisMemoryAfterCleanupBytes)],
      [
        'app process RSS before → after',
        `${result.rssBeforeMiB.join(', ')} → ${result.rssAfterMiB.join(', ')} MiB`,
      ],
      ['simulator RSS', `${result.simulatorRssMiB} MiB`],
      ['app process CPU during the run', `${result.cpuMs.join(', ')} ms`],
      ['app process event-loop delay, worst', `${result.loopDelayMaxMs.join(', ')} ms`],
      ['seeding (consents saved)', `${result.seedMs} ms`],
      [
        'managers: rotations / lost CAS / sibling adopted / background failures',
        `${result.managers.rotations} / ${result.managers.lostCas} / ${result.managers.siblingAdopted} / ${result.managers.backgroundFailures}`,
      ],
    ],
    notes: [],
  };
}
