// Where an app process finds Redis, in a form that crosses IPC (plain JSON): one node by URL, a
// Redis Cluster by its startup nodes, or a Sentinel-managed primary by its sentinels and name.

import IORedis, { Cluster, type Redis } from 'ioredis';

export type HostPort = { host: string; port: number };

export type RedisAddress =
  | { kind: 'node'; url: string }
  | { kind: 'cluster'; nodes: HostPort[] }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string };

/**
 * The fail-fast settings the token manager gives the clients it opens from a URL
 * (create-token-manager.ts), so the three topologies are measured with the same client behaviour.
 */
const FAIL_FAST = { commandTimeout: 2_000, maxRetriesPerRequest: 2 } as const;

/**
 * A client for `address`, for the token manager's `redis` option. A URL stays a URL: the manager
 * opens that client itself, as a vendor's app would. The caller closes what this returns.
 */
export function connectRedis(address: RedisAddress, connectionName: string): string | Redis | Cluster {
  switch (address.kind) {
    case 'node':
      return address.url;
    case 'sentinel':
      return new IORedis({ sentinels: address.sentinels, name: address.name, connectionName, ...FAIL_FAST });
    case 'cluster':
      return new Cluster(address.nodes, { redisOptions: { connectionName, ...FAIL_FAST } });
  }
}
