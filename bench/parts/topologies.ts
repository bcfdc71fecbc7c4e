// Part 5, topologies: the same rotations on one Redis node, on a 3-primary + 3-replica Redis
// Cluster and under Sentinel (1 primary + 1 replica + 3 sentinels), side by side: rotations per
// second, and the Redis commands each rotation costs, summed over every data node.

import type { BenchEnvironment } from '../environment';
import type { Plan } from '../plan';
import { type CommandCalls, addCalls, totalCalls } from '../redis/redis-probe';
import { CommandMeter, type NodeCommands } from '../topology/command-meter';
import { TOPOLOGY_NAMES, type TopologyName, startTopology } from '../topology/topologies';
import { type RotationFigures, expireAndRequest, rotationFigures, seedUsers } from './rotate-users';

export interface TopologyRow extends RotationFigures {
  topology: TopologyName;
  /** Requests in flight per process at most. */
  window: number;
  primaries: number;
  replicas: number;
  /** Commands the primaries ran (sent and inside scripts), per rotation the simulator counted. */
  commandsPerRotation: number;
  /** The busiest primary's share of those commands, % (100 with one primary). */
  busiestPrimaryPct: number;
  /** Commands the replicas applied from the replication stream, per rotation. */
  replicaCommandsPerRotation: number;
  primaryCalls: CommandCalls;
  replicaCalls: CommandCalls;
  /** Left out of the counts: replication, cluster and sentinel upkeep, our own probes' markers. */
  upkeep: CommandCalls;
}

/** Tenants the part's users are spread over: enough for every primary of a 3-primary Cluster. */
export const TOPOLOGY_TENANTS = 30;

const perRotation = (calls: number, rotations: number): number =>
  rotations > 0 ? Math.round((100 * calls) / rotations) / 100 : 0;

/** One row's figures from what each data node ran. */
export function summarizeNodes(
  nodes: NodeCommands[],
  rotations: number,
): Pick<
  TopologyRow,
  | 'primaries'
  | 'replicas'
  | 'commandsPerRotation'
  | 'busiestPrimaryPct'
  | 'replicaCommandsPerRotation'
  | 'primaryCalls'
  | 'replicaCalls'
  | 'upkeep'
> {
  const primaries = nodes.filter((node) => node.role === 'primary');
  const replicas = nodes.filter((node) => node.role === 'replica');
  const sum = (of: NodeCommands[], field: 'calls' | 'upkeep'): CommandCalls =>
    of.reduce<CommandCalls>((all, node) => addCalls(all, node[field]), {});
  const primaryCalls = sum(primaries, 'calls');
  const replicaCalls = sum(replicas, 'calls');
  const total = totalCalls(primaryCalls);
  const busiest = Math.max(0, ...primaries.map((node) => totalCalls(node.calls)));
  return {
    primaries: primaries.length,
    replicas: replicas.length,
    commandsPerRotation: perRotation(total, rotations),
    busiestPrimaryPct: total > 0 ? Math.round((100 * busiest) / total) : 0,
    replicaCommandsPerRotation: perRotation(totalCalls(replicaCalls), rotations),
    primaryCalls,
    replicaCalls,
    upkeep: sum(nodes, 'upkeep'),
  };
}

/** Measures each topology in turn, each on Redis processes of its own, stopped before the next. */
export async function runTopologies(
  env: BenchEnvironment,
  plan: Plan,
  onRow: (row: TopologyRow) => void = () => undefined,
  execArgv?: string[],
): Promise<TopologyRow[]> {
  const { users: count, processes, window } = plan.topologies;
  const rows: TopologyRow[] = [];
  for (const [index, name] of TOPOLOGY_NAMES.entries()) {
    const users = env.topologyAccounts.slice(index * count, (index + 1) * count);
    const topology = await startTopology(name);
    const release = env.adopt(topology.pids);
    try {
      // No sweeper: nothing but the rotations talks to Redis while the commands are counted.
      const apps = await env.spawnApps(processes, {
        strategies: ['this-project'],
        keyPrefix: `topo${index}:`,
        sweeper: false,
        // Many tenants, as a vendor's Redis serves: on a Cluster their slots spread over the primaries.
        tenants: TOPOLOGY_TENANTS,
        execArgv,
        redis: topology.address,
      });
      try {
        await seedUsers(env, apps, users);
        const meter = await CommandMeter.open(topology.dataPorts, topology.publishReplicates);
        try {
          await meter.start();
          const run = await expireAndRequest(env, apps, users, { requestsPerUser: 1, window });
          const nodes = await meter.stop();
          const row: TopologyRow = {
            topology: name,
            window,
            ...rotationFigures(run, users.length, processes),
            ...summarizeNodes(nodes, run.rotations),
          };
          rows.push(row);
          onRow(row);
        } finally {
          await meter.close();
        }
      } finally {
        await env.stopApps(apps);
      }
    } finally {
      release();
      await topology.close();
    }
  }
  return rows;
}
