// A Redis Cluster as the backend (3 primaries of the test's own): the factory builds a cluster
// client from nodes, the lock takes a Cluster, and notices travel by sharded pub/sub in the
// tenant's slot, heard by a subscriber that is itself a cluster connection.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Cluster } from 'ioredis';
import { RedisNoticeChannel, RedlockRefreshLock, fingerprint } from '../../src';
import { tenantTag } from '../../src/store/user-key';
import { holdNextAnswer } from '../../../support/fetch-probe';
import { type Harness, createHarness } from '../../../test/support/manager-harness';
import { type RedisCluster, startRedisCluster } from '../../../support/redis-cluster';

let cluster: RedisCluster;
let admin: Cluster;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  admin = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
}, 60_000);
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  admin.disconnect();
  await cluster.close();
});

/**
 * Subscribers of a sharded channel: SPUBLISH of a malformed probe (which every channel ignores)
 * answers how many subscribers the channel's own primary delivered it to.
 */
async function shardSubscribers(channel: string): Promise<number> {
  return (await admin.call('SPUBLISH', channel, 'probe')) as number;
}

/** Classic (non-sharded) subscribers of a channel, summed over every primary. */
async function classicSubscribers(channel: string): Promise<number> {
  let total = 0;
  for (const node of admin.nodes('master')) {
    const [, count] = (await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    total += Number(count);
  }
  return total;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  for (let delay = 5; !(await condition()); delay = Math.min(delay * 2, 100)) {
    if (performance.now() > giveUpAt) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function clusterHarness(noticeTimeoutMs = 200): Promise<Harness> {
  // The wait budget must cover a holder's rotation, a dead one's lease and one re-read (invariant 10).
  const h = await createHarness('redis', {
    redis: { cluster: cluster.startupNodes },
    noticeTimeoutMs,
    waitTimeoutMs: 30_000 + noticeTimeoutMs,
  });
  closers.push(() => h.close());
  return h;
}

test('the factory builds a cluster client from { cluster: nodes }: a rotation against the simulator', async () => {
  const h = await clusterHarness();
  await h.consent();
  h.expire();
  const token = await h.manager.getAccessToken(h.user);
  expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0, leewayReuses: 0 });
  // The record is in the cluster, in the tenant's slot: a second manager reads it without a request.
  const again = await h.sibling().getAccessToken(h.user);
  expect(fingerprint(again.accessToken)).toBe(fingerprint(token.accessToken));
  expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1 });
}, 30_000);

test("two managers on the cluster: one rotates, the other's waiter wakes by a sharded notice", async () => {
  // Waiters re-read only every 20 s: anything faster was a notice.
  const h = await clusterHarness(20_000);
  const other = h.sibling();
  await h.consent();
  h.expire();
  const held = holdNextAnswer(h.probe);
  const first = h.manager.getAccessToken(h.user);
  await held.arrived;
  const second = other.getAccessToken(h.user);
  const channel = `${h.keyPrefix}${tenantTag(h.user.clientKey)}:notices`;
  // Both processes follow the tenant's channel on its primary, and the second waits on the lease.
  await until(async () => h.logger.events('lease_held_elsewhere').length > 0, 'the second to wait');
  await until(async () => (await shardSubscribers(channel)) === 2, 'both subscriptions');
  expect(await classicSubscribers(`${h.keyPrefix}notices`)).toBe(0);
  const released = performance.now();
  held.release();
  const [a, b] = await Promise.all([first, second]);
  expect(performance.now() - released).toBeLessThan(10_000);
  expect(fingerprint(b.accessToken)).toBe(fingerprint(a.accessToken));
  expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1, revocations: 0 });
}, 30_000);

test('the notice subscriber on a cluster is a cluster connection, subscribed with SSUBSCRIBE', async () => {
  const client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  closers.push(async () => client.disconnect());
  const keyPrefix = `jtr-test:${randomUUID()}:`;
  const name = `jtr-notices-${randomUUID()}`;
  const channel = new RedisNoticeChannel({ redis: client, keyPrefix, subscriberName: name });
  closers.push(() => channel.close());
  await channel.ready();
  const subscriber = (channel as unknown as { subscription: { subscriber: { isCluster?: boolean } } })
    .subscription.subscriber;
  expect(subscriber.isCluster).toBe(true);
  const user = { clientKey: `tenant-${randomUUID()}`, accountId: 'alice' };
  // The first wait follows the tenant, and is released once Redis confirms (see the last test).
  await expect(channel.waitForNotice(user, 10_000).promise).resolves.toBeNull();
  const wait = channel.waitForNotice(user, 10_000);
  const tenantChannel = `${keyPrefix}${tenantTag(user.clientKey)}:notices`;
  await until(async () => (await shardSubscribers(tenantChannel)) === 1, 'the subscription');
  // The connection that holds it carries the subscriber's name and one sharded subscription.
  const lists = await Promise.all(
    admin.nodes('master').map((node) => node.client('LIST') as Promise<string>),
  );
  const named = lists.flatMap((list) => list.split('\n')).filter((line) => line.includes(name));
  expect(named.filter((line) => / ssub=1 /.test(line))).toHaveLength(1);
  // A malformed probe is ignored; a real notice wakes the waiter.
  await channel.publish({ user, kind: 'rotated' });
  await expect(wait.promise).resolves.toEqual({ user, kind: 'rotated' });
}, 30_000);

test('the lock takes a Cluster: one holder per user across instances', async () => {
  const client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  closers.push(async () => client.disconnect());
  const keyPrefix = `jtr-test:${randomUUID()}:`;
  const a = new RedlockRefreshLock({ redis: client, keyPrefix });
  const b = new RedlockRefreshLock({ redis: client, keyPrefix });
  const user = { clientKey: `tenant-${randomUUID()}`, accountId: 'alice' };
  const inner = await a.tryWithLock(user, async () => b.tryWithLock(user, async () => 'nested'));
  expect(inner).toEqual({ acquired: true, value: { acquired: false } });
  await expect(b.tryWithLock(user, async () => 'free again')).resolves.toEqual({
    acquired: true,
    value: 'free again',
  });
}, 30_000);

test("a tenant's first waiters, registered before Redis confirmed its SSUBSCRIBE, read again once it has", async () => {
  const client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  closers.push(async () => client.disconnect());
  const channel = new RedisNoticeChannel({ redis: client, keyPrefix: `jtr-test:${randomUUID()}:` });
  closers.push(() => channel.close());
  await channel.ready();
  const user = { clientKey: `tenant-${randomUUID()}`, accountId: 'alice' };
  // Its notice could have come before the subscription: it is released (as by a timeout) at once.
  const registered = performance.now();
  await expect(channel.waitForNotice(user, 20_000).promise).resolves.toBeNull();
  expect(performance.now() - registered).toBeLessThan(10_000);
  // Once the tenant is followed, a wait is released by its notice only.
  const next = channel.waitForNotice(user, 20_000);
  await channel.publish({ user, kind: 'invalidated' });
  await expect(next.promise).resolves.toEqual({ user, kind: 'invalidated' });
}, 15_000);
