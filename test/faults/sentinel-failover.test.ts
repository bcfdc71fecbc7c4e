// A Sentinel-managed primary fails in the middle of a burst, with every user's rotation in flight.
// SIGKILLed: every user (all are on it) is served again within 10 s of the promotion, nothing is
// revoked, and every chain still rotates one and two hours later (past the leeway) from the
// simulator's current refresh token. Frozen (SIGSTOP) until the sentinels promote its replica and
// woken then: clients follow the new primary, but the result writes the old one acknowledged
// before its demotion are lost, and the chains with them (asserted as it is, until #13 item 3).

import { randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { failFastSentinel } from '../../support/redis-failover-clients';
import { waitForRole } from '../../support/redis-cluster-topology';
import { type RedisSentinelGroup, startRedisSentinel } from '../../support/redis-sentinel';
import {
  type FailoverHarness,
  SERVED_AGAIN_WITHIN_MS,
  createFailoverHarness,
  expectBurstOutcome,
  expectNothingLost,
  reportRecovery,
  servedAgainAfter,
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

  /** `commandTimeoutMs`: the app processes' client's (`null`: none); default the fail-fast 2 s. */
  async function prepare(
    commandTimeoutMs?: number | null,
  ): Promise<{ primary: number; replica: number; users: number[] }> {
    group = await startRedisSentinel({ replicas: 1, sentinels: 3 });
    const primary = await group.primaryPort();
    const replica = group.nodes.find((node) => node.port !== primary)!.port;
    const users = Array.from({ length: TENANTS }, () => `tenant-${randomUUID()}`).flatMap((clientKey) =>
      ACCOUNTS.map((accountId) => ({ clientKey, accountId })),
    );
    client = new IORedis(failFastSentinel(group.sentinels, group.name));
    client.on('error', () => undefined);
    h = await createFailoverHarness(
      client,
      { sentinels: group.sentinels, name: group.name, commandTimeoutMs },
      users,
    );
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

  test('the primary frozen mid-burst and woken at the promotion: the result writes it acked are lost, and every chain is revoked an hour later', async () => {
    // The truth today, asserted so that it cannot go unnoticed (#13 item 3, WAIT, is the fix; this
    // test then expects what the others do: nothing lost). Made deterministic by a client without
    // a command timeout (ioredis's default): every user's result write waits on the frozen primary
    // until it wakes, and is acknowledged by a primary the sentinels have already replaced. The
    // fail-fast client (2 s) loses them the same way whenever the promotion comes less than 2 s
    // after the write, as it did here at 1.4 to 2.2 s.
    const { primary, replica, users } = await prepare(null);
    const outcome = await h!.burst(CONCURRENCY, async () => {
      node(primary).pause();
      const promotedAt = await waitForRole(replica, 'master');
      node(primary).resume();
      return promotedAt;
    });
    reportRecovery('sentinel SIGSTOP, no command timeout', outcome, users);
    // The sentinels demote the old primary; it drops what it acknowledged and copies the new one.
    await waitForRole(primary, 'slave');
    for (const ms of servedAgainAfter(outcome, users)) expect(ms).toBeLessThanOrEqual(SERVED_AGAIN_WITHIN_MS);
    // The burst looked perfect: one rotation per user, nothing in doubt, nothing recovered.
    expect(outcome.sim).toMatchObject({
      tokenRequests: users.length,
      rotations: users.length,
      revocations: 0,
    });
    expect(outcome.stats.reduce((n, s) => n + s.recoveries, 0)).toBe(0);
    // But the new primary holds each user's record as it was before the rotation (`rotating`, the
    // refresh token the simulator retired an hour ago): taken over and recovered past the leeway,
    // every family is revoked.
    const round = await h!.rotateAll();
    expect(round.sent).toEqual(users.map(() => 'previous'));
    expect(round.failures).toEqual(users.map(() => 'ReauthorizationRequiredError'));
    expect(round.stats).toMatchObject({ revocations: users.length, rotations: 0 });
  }, 40_000);
});
