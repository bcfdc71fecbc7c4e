// Throwaway Redis Clusters on free ports (redis-server --cluster-enabled yes, joined by
// redis-cli --cluster create), for the tests that must see more than one node. They never touch
// the shared Redis on 6379.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { untilNode, withNode } from './redis-poll';
import { type RedisServer, type RedisServerOptions, freePort, startRedisServer } from './redis-server';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Primaries, at least 3 (Redis Cluster's minimum). Default 3. */
  masters?: number;
  /** Replicas of each primary. Default 0. */
  replicasPerMaster?: number;
  /** Options of node `index` (0-based; primaries come first, as redis-cli assigns them). */
  node?: (index: number) => RedisServerOptions;
}

export interface RedisCluster {
  /** Every node, primaries first. */
  nodes: RedisServer[];
  /** What `new Cluster(...)` takes. */
  startupNodes: Array<{ host: string; port: number }>;
  /** Stops every node and removes their directories. */
  close(): Promise<void>;
}

/** Starts the nodes, joins them into one cluster, and resolves once every node says `cluster_state:ok`. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const count = masters * (1 + replicas);
  const started = await Promise.allSettled(
    Array.from({ length: count }, async (_, index) => {
      const own = options.node?.(index) ?? {};
      // The bus port defaults to port + 10 000, which may be in the ephemeral range and taken:
      // pick a free one as well.
      const busPort = await freePort();
      return startRedisServer({
        ...own,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          '2000',
          '--cluster-port',
          String(busPort),
          ...(own.args ?? []),
        ],
      });
    }),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    // The nodes that did start must not outlive us.
    await Promise.all(nodes.map((node) => node.close()));
    throw failed.reason;
  }
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.close()));
  };
  try {
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
        // A create that never finishes (a node that never answers) fails the test, not hangs it.
      ],
      { timeout: 30_000 },
    );
    for (const node of nodes) await clusterOk(node.port);
    // redis-cli attaches replicas after the slots are served: wait until they appear and sync, in
    // every node's view (a client asks any node for CLUSTER SLOTS, and gossip reaches each in turn).
    if (replicas > 0) for (const node of nodes) await replicasUp(node.port, masters, replicas);
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), close };
}

/** Waits until `CLUSTER SLOTS` lists `replicas` replicas per range, each with its link up. */
async function replicasUp(port: number, masters: number, replicas: number): Promise<void> {
  await untilNode(
    port,
    async (client) => {
      const slots = await client.cluster('SLOTS');
      // Each range: its first and last slot, its primary, then its replicas.
      const replicaPorts = slots.flatMap((range) =>
        range.slice(3).map((node) => (node as [string, number, ...unknown[]])[1]),
      );
      if (slots.length !== masters || replicaPorts.length !== masters * replicas) return false;
      const links = await Promise.all(replicaPorts.map((replica) => linkUp(replica)));
      return links.every(Boolean);
    },
    'Redis Cluster replicas never attached and synced',
  );
}

async function linkUp(port: number): Promise<boolean> {
  return withNode(port, async (client) =>
    (await client.info('replication')).includes('master_link_status:up'),
  );
}

/** Waits for one node to see the whole cluster: slots covered, every node known. */
async function clusterOk(port: number): Promise<void> {
  await untilNode(
    port,
    async (client) => String(await client.cluster('INFO')).includes('cluster_state:ok'),
    `Redis Cluster node ${port} never reached cluster_state:ok`,
  );
}
