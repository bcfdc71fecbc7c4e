// The three Redis topologies the topologies part compares, started on free ports with the
// support/ starters (the same ones the fault tests use), each torn down after its measurement.

import { startRedisCluster } from '../../support/redis-cluster';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { startRedisSentinel } from '../../support/redis-sentinel';
import type { RedisAddress } from './redis-address';

export const TOPOLOGY_NAMES = ['one node', 'cluster 3+3', 'sentinel 1+1+3'] as const;

export type TopologyName = (typeof TOPOLOGY_NAMES)[number];

export interface RunningTopology {
  name: TopologyName;
  /** What the app processes connect to. */
  address: RedisAddress;
  /** Every data node (primaries and replicas; not the sentinels). */
  dataPorts: number[];
  /** Whether a replica applies its primary's PUBLISHes as commands (Redis outside Cluster mode). */
  publishReplicates: boolean;
  /** Every process of the topology, sentinels included, for the CPU accounting. */
  pids(): number[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

function pidsOf(servers: RedisServer[]): () => number[] {
  return () => servers.flatMap((server) => (server.pid === undefined ? [] : [server.pid]));
}

export async function startTopology(name: TopologyName): Promise<RunningTopology> {
  switch (name) {
    case 'one node': {
      const node = await startRedisServer();
      return {
        name,
        address: { kind: 'node', url: node.url },
        dataPorts: [node.port],
        publishReplicates: true,
        pids: pidsOf([node]),
        close: () => node.close(),
      };
    }
    case 'cluster 3+3': {
      const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
      return {
        name,
        address: { kind: 'cluster', nodes: cluster.startupNodes },
        dataPorts: cluster.nodes.map((node) => node.port),
        publishReplicates: false,
        pids: pidsOf(cluster.nodes),
        close: () => cluster.close(),
      };
    }
    case 'sentinel 1+1+3': {
      const group = await startRedisSentinel({ replicas: 1, sentinels: 3 });
      return {
        name,
        address: {
          kind: 'sentinel',
          sentinels: group.sentinels.map(({ port }) => ({ host: HOST, port })),
          name: group.name,
        },
        dataPorts: group.nodes.map((node) => node.port),
        publishReplicates: true,
        pids: pidsOf([...group.nodes, ...group.sentinelNodes]),
        close: () => group.close(),
      };
    }
  }
}
