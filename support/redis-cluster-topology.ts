// Who serves what in a Redis Cluster, read from one node's CLUSTER NODES, and the waits a failover
// test needs: a replica promoted, an old primary back as a replica.

import { pollUntil } from './poll-until';
import { withNode } from './redis-poll';

/** One node as CLUSTER NODES lists it. */
export interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** Marked failing (`fail` or `fail?`) by the node asked. */
  failing: boolean;
  /** The primary's id, for a replica. */
  masterId?: string;
  /** Slot ranges, for a primary: `[first, last]`. */
  slots: Array<[number, number]>;
}

/** The cluster as the node on `port` sees it. */
export async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = String(await withNode(port, (client) => client.cluster('NODES')));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      const role = flags.includes('master') ? 'master' : 'replica';
      return {
        id,
        port: Number(address.split('@')[0].split(':')[1]),
        role,
        failing: flags.split(',').some((flag) => flag === 'fail' || flag === 'fail?'),
        masterId: masterId === '-' ? undefined : masterId,
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [first, last = first] = range.split('-').map(Number);
            return [first, last] as [number, number];
          }),
      };
    });
}

/** The slot of `key` (computed by Redis, so hash tags are honoured exactly as the server does). */
export async function keySlot(port: number, key: string): Promise<number> {
  return Number(await withNode(port, (client) => client.cluster('KEYSLOT', key)));
}

/** Resolves with the wall-clock time at which the node on `port` first answers ROLE as `role`. */
export async function waitForRole(
  port: number,
  role: 'master' | 'slave',
  timeoutMs = 20_000,
): Promise<number> {
  await pollUntil(
    async () => ((await withNode(port, (client) => client.call('ROLE'))) as unknown[])[0] === role,
    `node ${port} never became ${role}`,
    timeoutMs,
  );
  return Date.now();
}
