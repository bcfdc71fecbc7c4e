// The topologies part's command counts, exact and in seconds: what a client sends is counted on
// the nodes that ran it, and the traffic no rotation causes (the sentinels' hello PUBLISHes, which
// look like notices; cluster slot refreshes; our own markers) is left out. Never timed.

import { randomBytes, randomUUID } from 'node:crypto';
import IORedis, { type Redis } from 'ioredis';
import { createTokenManager } from 'jira-token-rotation';
import { summarizeNodes } from '../../bench/parts/topologies';
import { CommandMeter } from '../../bench/topology/command-meter';
import { connectRedis } from '../../bench/topology/redis-address';
import { type RunningTopology, startTopology } from '../../bench/topology/topologies';
import { DEFAULT_SITES } from '../../sim';
import { type SimServer, startSim } from '../../support/sim-server';

const HOUR = 3_600_000;

/** Resolves once `count` sentinel hellos were published on the node at `port`. */
async function hellosOn(port: number, count: number): Promise<void> {
  const subscriber = new IORedis({ host: '127.0.0.1', port });
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      subscriber.on('message', () => {
        if (++seen === count) resolve();
      });
      subscriber.subscribe('__sentinel__:hello').catch(reject);
    });
  } finally {
    subscriber.disconnect();
  }
}

describe('topologies: Redis commands counted per data node', () => {
  test('under Sentinel, the sentinels’ hello PUBLISHes are not counted as the app’s', async () => {
    const topology = await startTopology('sentinel 1+1+3');
    const meter = await CommandMeter.open(topology.dataPorts, topology.publishReplicates);
    const client = connectRedis(topology.address, 'topology-test') as Redis;
    try {
      await meter.start();
      // Sentinels publish a hello every 2 s each: wait for one inside the window.
      const hellos = hellosOn(topology.dataPorts[0], 1);
      for (const n of [1, 2, 3]) await client.set(`topology-test:${n}`, 'x');
      await client.publish('topology-test:notices', 'a');
      await client.publish('topology-test:notices', 'b');
      await hellos;
      // The replica has applied both writes and both PUBLISHes before it is read.
      await client.call('WAIT', 1, 5_000);
      const nodes = await meter.stop();
      const primary = nodes.find((node) => node.role === 'primary')!;
      const replica = nodes.find((node) => node.role === 'replica')!;
      expect(primary.calls).toEqual({ set: 3, publish: 2, wait: 1 });
      expect(primary.upkeep.publish).toBeGreaterThanOrEqual(2); // a hello and our marker
      expect({ set: replica.calls.set, publish: replica.calls.publish }).toEqual({ set: 3, publish: 2 });
    } finally {
      client.disconnect();
      await meter.close();
      await topology.close();
    }
  });

  describe('on a 3 + 3 Redis Cluster, the token manager', () => {
    let topology: RunningTopology;
    let server: SimServer;

    beforeAll(async () => {
      topology = await startTopology('cluster 3+3');
    });
    afterAll(() => topology.close());
    beforeEach(async () => {
      const accounts = ['t1', 't2', 't3'].map((accountId) => ({
        accountId,
        name: accountId,
        email: '',
        siteIds: [DEFAULT_SITES[0].id],
      }));
      server = await startSim({ accounts, accessTokenTtlSeconds: 3600 });
    });
    afterEach(() => server.close());

    test('rotates each user once, and every notice is counted once, on the primaries only', async () => {
      let offset = 0;
      const redis = connectRedis(topology.address, 'topology-test');
      const manager = createTokenManager({
        clientId: 'sim-client-id',
        clientSecret: 'sim-client-secret',
        tokenUrl: server.tokenUrl,
        redis,
        keyPrefix: `jtr-topology-test:${randomUUID()}:`,
        encryptionKey: randomBytes(32).toString('base64'),
        recoveryIntervalMs: 0,
        now: () => Date.now() + offset,
      });
      const meter = await CommandMeter.open(topology.dataPorts, topology.publishReplicates);
      try {
        const users = ['t1', 't2', 't3'].map((accountId) => ({ clientKey: 'topology-tenant', accountId }));
        for (const user of users) await manager.save(user, server.sim.consent(user.accountId));
        offset += HOUR + 1_000;
        server.sim.clock.advance(HOUR + 1_000);
        await meter.start();
        await Promise.all(users.map((user) => manager.getAccessToken(user)));
        await manager.whenIdle();
        const nodes = await meter.stop();
        expect(server.sim.stats()).toMatchObject({ rotations: 3, leewayReuses: 0, revocations: 0 });
        const summary = summarizeNodes(nodes, 3);
        expect({ primaries: summary.primaries, replicas: summary.replicas }).toEqual({
          primaries: 3,
          replicas: 3,
        });
        // One notice per rotation, sharded pub/sub on the primary of the tenant's slot; no plain
        // PUBLISH, which the cluster bus would carry to every node.
        expect(summary.primaryCalls.spublish).toBe(3);
        expect(summary.primaryCalls.publish).toBeUndefined();
        expect(summary.replicaCalls.spublish).toBeUndefined();
        expect(summary.replicaCalls.publish).toBeUndefined();
        expect(Object.keys(summary.primaryCalls).filter((command) => command.startsWith('cluster'))).toEqual(
          [],
        );
        expect(summary.commandsPerRotation).toBeGreaterThan(0);
      } finally {
        await meter.close();
        await manager.close();
        if (typeof redis !== 'string') redis.disconnect();
      }
    });
  });
});
