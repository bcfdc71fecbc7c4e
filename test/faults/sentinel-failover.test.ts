// A Sentinel-managed primary fails in the middle of a burst, with every user's rotation in flight:
// SIGKILLed, or frozen (SIGSTOP) until the sentinels promote its replica and then woken (the
// sentinels demote it to a replica, and clients must follow the new primary). Every user is on the
// failed primary: all are served again within 10 s of the promotion, nothing is revoked, and every
// chain still rotates one and two hours later (past the leeway) from the simulator's current
// refresh token.

import { randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { failFastSentinel } from '../../support/redis-failover-clients';
import { waitForRole } from '../../support/redis-cluster-topology';
import { type RedisSentinelGroup, startRedisSentinel } from '../../support/redis-sentinel';
import {
  type FailoverHarness,
  createFailoverHarness,
  expectBurstOutcome,
  expectNothingLost,
  reportRecovery,
} from '../support/failover-harness';

const TENANTS = 4;
const ACCOUNTS = ['sim-user-1', 'sim-user-2'];
const PROCESSES = 2;
const CONCURRENCY = 3;

describe('Redis Sentinel failover: 1 primary, 1 replica, 3 sentinels, 2 app processes', () => {
  let group: RedisSentinelGroup | undefined;
  let client: IORedis | undefined;
  let h: FailoverHarness | undefined;

  afterEach(async () => {
    await h?.close();
    client?.disconnect();
    await group?.close();
    h = client = group = undefined;
  });

  async function prepare(): Promise<{ primary: number; replica: number; users: number[] }> {
    group = await startRedisSentinel({ replicas: 1, sentinels: 3 });
    const primary = await group.primaryPort();
    const replica = group.nodes.find((node) => node.port !== primary)!.port;
    const users = Array.from({ length: TENANTS }, () => `tenant-${randomUUID()}`).flatMap((clientKey) =>
      ACCOUNTS.map((accountId) => ({ clientKey, accountId })),
    );
    client = new IORedis(failFastSentinel(group.sentinels, group.name));
    client.on('error', () => undefined);
    h = await createFailoverHarness(client, { sentinels: group.sentinels, name: group.name }, users);
    await h.spawn(PROCESSES);
    return { primary, replica, users: users.map((_, index) => index) };
  }

  const node = (port: number) => group!.nodes.find((server) => server.port === port)!;

  test('the primary SIGKILLed mid-burst: every user served within 10 s of the promotion, no chain lost', async () => {
    const { primary, replica, users } = await prepare();
    const outcome = await h!.burst(CONCURRENCY, async () => {
      await node(primary).stop('SIGKILL');
      const promotedAt = await waitForRole(replica, 'master');
      expect(await group!.waitForFailover(primary)).toBe(replica);
      return promotedAt;
    });
    reportRecovery('sentinel SIGKILL', outcome, users);
    expectBurstOutcome(h!, outcome, users);
    await expectNothingLost(h!);
  }, 40_000);

  test('the primary frozen mid-burst until the failover, then woken: it is demoted, clients follow, nothing lost', async () => {
    const { primary, replica, users } = await prepare();
    const outcome = await h!.burst(CONCURRENCY, async () => {
      node(primary).pause();
      const promotedAt = await waitForRole(replica, 'master');
      expect(await group!.waitForFailover(primary)).toBe(replica);
      node(primary).resume();
      return promotedAt;
    });
    reportRecovery('sentinel SIGSTOP', outcome, users);
    await waitForRole(primary, 'slave');
    expectBurstOutcome(h!, outcome, users);
    await expectNothingLost(h!);
  }, 40_000);
});
