// Part 5's table: the three Redis topologies side by side.

import type { TopologyRow } from '../parts/topologies';
import { totalCalls } from '../redis/redis-probe';
import type { Table } from './part-tables';

export function topologiesTable(rows: TopologyRow[]): Table {
  const first = rows[0];
  const top = (calls: Record<string, number>): string =>
    Object.entries(calls)
      .sort(([, a], [, b]) => b - a)
      .map(([command, n]) => `${command} ${n}`)
      .join(', ');
  return {
    title:
      'Part 5 — topologies: the same rotations on one node, a Redis Cluster and under Sentinel' +
      (first ? ` (${first.users.toLocaleString('en-US')} users each, ${first.processes} processes)` : ''),
    headers: [
      'topology',
      'primaries + replicas',
      'rotations',
      'reuses / revocations / errors',
      'elapsed ms',
      'rotations/s',
      'p50 ms',
      'p99 ms',
      'commands/rotation (primaries)',
      'busiest primary %',
      'replica commands/rotation',
    ],
    rows: rows.map((r) => [
      r.topology,
      `${r.primaries} + ${r.replicas}`,
      r.rotations,
      `${r.leewayReuses} / ${r.revocations} / ${r.errors}`,
      r.elapsedMs,
      r.rotationsPerSecond,
      r.p50Ms,
      r.p99Ms,
      r.commandsPerRotation,
      r.busiestPrimaryPct,
      r.replicaCommandsPerRotation,
    ]),
    notes: [
      'Each user requested once, from one of the processes; rotations/s = rotations the simulator counted / (go → last answer).',
      'commands/rotation: INFO commandstats deltas summed over the primaries (commands sent and run inside scripts) / rotations;',
      'left out: upkeep no rotation causes (REPLCONF, CLUSTER, PING, INFO, the sentinels’ hello PUBLISHes,',
      'the MULTI/EXEC around the script writes a replica applies) and the meter’s own markers.',
      ...rows.map(
        (r) =>
          `${r.topology}: primaries ran ${top(r.primaryCalls)}; left out on all nodes: ${totalCalls(r.upkeep)} (${top(r.upkeep)})`,
      ),
    ],
  };
}
