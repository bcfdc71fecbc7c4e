// A Redis Cluster primary fails in the middle of a burst, with every user's rotation in flight:
// SIGKILLed, or frozen (SIGSTOP) until its replica is promoted and then woken (it comes back as a
// replica). Users whose tenant's slot is on a healthy primary see no error, users on the failed
// one are served again within 10 s of the promotion, nothing is revoked, and every chain still
// rotates one and two hours later (past the leeway), from the refresh token the simulator holds
// as current.

import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { UserRef } from 'jira-token-rotation';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster';
import { failFastCluster } from '../../support/redis-failover-clients';
import { type ClusterNode, clusterNodes, keySlot, waitForRole } from '../../support/redis-cluster-topology';
import {
  type FailoverHarness,
  createFailoverHarness,
  errorsOf,
  expectBurstOutcome,
  expectNothingLost,
  reportRecovery,
} from '../support/failover-harness';

/** Tenants per primary, and the simulator's two accounts in each: 12 users over 3 primaries. */
const TENANTS_PER_MASTER = 2;
const ACCOUNTS = ['sim-user-1', 'sim-user-2'];
const PROCESSES = 2;
const CONCURRENCY = 3;

const covers = (node: ClusterNode, slot: number): boolean =>
  node.slots.some(([first, last]) => first <= slot && slot <= last);

describe('Redis Cluster failover: 3 primaries, 3 replicas, 2 app processes', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let h: FailoverHarness | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  }, 30_000);

  afterAll(async () => {
    await cluster?.close();
  });

  afterEach(async () => {
    await h?.close();
    h = undefined;
    client.disconnect();
  });

  /** A live node to ask about the cluster (not one this test froze or killed). */
  const askPort = (): number => cluster.nodes.find((node) => node.running)!.port;

  /**
   * The primary to fail: one with a live replica, and not the one serving the `{idx}` slot. Until
   * #13 item 2 moves the indexes into each tenant's slot, losing that primary fails every user's
   * rotation on every primary (the issue measured 60 of 60), which this test is not about.
   */
  async function pickVictim(): Promise<{
    victim: ClusterNode;
    replica: ClusterNode;
    masters: ClusterNode[];
  }> {
    const nodes = (await clusterNodes(askPort())).filter((node) => !node.failing);
    const indexSlot = await keySlot(askPort(), '{idx}');
    const masters = nodes.filter((node) => node.role === 'master' && node.slots.length > 0);
    for (const victim of masters) {
      const replica = nodes.find((node) => node.role === 'replica' && node.masterId === victim.id);
      if (replica && !covers(victim, indexSlot)) return { victim, replica, masters };
    }
    throw new Error('No primary with a replica outside the {idx} slot');
  }

  /** Users in tenants whose slots spread over every primary; the indexes of those on `victim`. */
  async function spreadUsers(
    masters: ClusterNode[],
    victim: ClusterNode,
  ): Promise<{ users: UserRef[]; onVictim: number[] }> {
    const tenants = new Map<string, string[]>(masters.map((m) => [m.id, []]));
    while ([...tenants.values()].some((list) => list.length < TENANTS_PER_MASTER)) {
      const clientKey = `tenant-${randomUUID()}`;
      // The tenant's hash tag, as lib/src/store/user-key.ts builds it: every key of the tenant has it.
      const tag = `{t:${Buffer.from(clientKey, 'utf8').toString('base64url')}}`;
      const slot = await keySlot(askPort(), tag);
      const list = tenants.get(masters.find((m) => covers(m, slot))!.id)!;
      if (list.length < TENANTS_PER_MASTER) list.push(clientKey);
    }
    const users = [...tenants.values()]
      .flat()
      .flatMap((clientKey) => ACCOUNTS.map((accountId) => ({ clientKey, accountId })));
    const victimTenants = new Set(tenants.get(victim.id));
    const onVictim = users.flatMap((user, index) => (victimTenants.has(user.clientKey) ? [index] : []));
    return { users, onVictim };
  }

  async function prepare(): Promise<{ victim: ClusterNode; replica: ClusterNode; onVictim: number[] }> {
    const { victim, replica, masters } = await pickVictim();
    const { users, onVictim } = await spreadUsers(masters, victim);
    client = new Cluster(cluster.startupNodes, failFastCluster());
    client.on('error', () => undefined);
    h = await createFailoverHarness(client, { cluster: cluster.startupNodes }, users);
    await h.spawn(PROCESSES);
    return { victim, replica, onVictim };
  }

  /** The users on the healthy primaries: two thirds of them. */
  const healthyOf = (onVictim: number[]): number[] => {
    const healthy = h!.users.map((_, index) => index).filter((index) => !onVictim.includes(index));
    expect(healthy).toHaveLength(2 * TENANTS_PER_MASTER * ACCOUNTS.length);
    return healthy;
  };

  const serverOf = (node: ClusterNode) => cluster.nodes.find((server) => server.port === node.port)!;

  test('a primary SIGKILLed mid-burst: healthy slots see no error, its users are served within 10 s of the promotion, no chain lost', async () => {
    const { victim, replica, onVictim } = await prepare();
    const outcome = await h!.burst(CONCURRENCY, async () => {
      await serverOf(victim).stop('SIGKILL');
      const promotedAt = await waitForRole(replica.port, 'master');
      // Brought back, as an operator would: it rejoins as the new primary's replica. Until it has
      // synced no write in its slots can be acknowledged by a replica (WAIT), so the result writes
      // made meanwhile stay in memory and count only then.
      await serverOf(victim).start();
      return promotedAt;
    });
    reportRecovery('cluster SIGKILL', outcome, onVictim);
    expectBurstOutcome(h!, outcome, onVictim);
    expect(errorsOf(outcome, healthyOf(onVictim))).toEqual({});
    await expectNothingLost(h!);
  }, 40_000);

  test('a primary frozen mid-burst until its replica is promoted, then woken: it rejoins as a replica, nothing lost', async () => {
    const { victim, replica, onVictim } = await prepare();
    const frozen = serverOf(victim);
    const outcome = await h!.burst(CONCURRENCY, async () => {
      frozen.pause();
      const promotedAt = await waitForRole(replica.port, 'master');
      frozen.resume();
      return promotedAt;
    });
    reportRecovery('cluster SIGSTOP', outcome, onVictim);
    await waitForRole(victim.port, 'slave');
    expectBurstOutcome(h!, outcome, onVictim);
    expect(errorsOf(outcome, healthyOf(onVictim))).toEqual({});
    await expectNothingLost(h!);
  }, 40_000);
});
