// checkRedisPersistence on a Redis Cluster of its own (3 primaries, 3 replicas): every node is
// read, and each finding names the node it is about.

import { Cluster } from 'ioredis';
import { checkRedisPersistence } from '../../src';
import { captureLogger } from '../../../test/support/capture-logger';
import { type RedisCluster, startRedisCluster } from '../../../support/redis-cluster';

let cluster: RedisCluster | undefined;
let client: Cluster | undefined;
afterEach(async () => {
  client?.disconnect();
  await cluster?.close();
  cluster = client = undefined;
});

async function check(node: (index: number) => { aof?: boolean; args?: string[] }) {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, node });
  client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  const logger = captureLogger();
  const result = await checkRedisPersistence(client, logger);
  const address = (index: number) => `127.0.0.1:${cluster!.nodes[index].port}`;
  return { result, logger, address };
}

test('a healthy cluster: every primary and replica read, nothing logged', async () => {
  const { result, logger } = await check(() => ({ aof: true }));
  expect(result).toMatchObject({
    aof: true,
    rdb: false,
    evictionPolicy: 'noeviction',
    evictionSafe: true,
    checked: true,
  });
  expect(result.nodes!.map((n) => n.role).sort()).toEqual([
    'primary',
    'primary',
    'primary',
    'replica',
    'replica',
    'replica',
  ]);
  expect(new Set(result.nodes!.map((n) => n.address)).size).toBe(6);
  expect(result.nodes!.every((n) => n.aof && n.evictionSafe && n.checked)).toBe(true);
  expect(logger.entries).toEqual([]);
}, 60_000);

test('one node without AOF and one evicting allkeys: the cluster is unsafe, and each warning names its node', async () => {
  const { result, logger, address } = await check((index) =>
    index === 4
      ? { aof: false }
      : index === 1
        ? { aof: true, args: ['--maxmemory-policy', 'allkeys-lru'] }
        : { aof: true },
  );
  expect(result).toMatchObject({ aof: false, evictionSafe: false, checked: true, evictionPolicy: undefined });
  expect(result.nodes).toHaveLength(6);
  const byAddress = new Map(result.nodes!.map((n) => [n.address, n]));
  expect(byAddress.get(address(4))).toMatchObject({ aof: false, evictionSafe: true });
  expect(byAddress.get(address(1))).toMatchObject({
    aof: true,
    evictionSafe: false,
    evictionPolicy: 'allkeys-lru',
  });
  expect(logger.events('redis_not_persistent').map((e) => e.obj.node)).toEqual([address(4)]);
  expect(logger.events('redis_eviction_unsafe').map((e) => e.obj.node)).toEqual([address(1)]);
  expect(logger.events('redis_not_persistent')[0].msg).toContain(`Redis node ${address(4)} does not persist`);
}, 60_000);
