// No single slot on the write path, on a Redis Cluster of its own (3 primaries): with writes paused
// on the primary that holds the indexes of some tenants, the users of every tenant whose records
// live on another primary rotate exactly once each; only the users whose own records are on the
// paused primary get a 503. The index upkeep that could not run is logged once, counted, and
// redone by the next listing; the listings walk every shard on every primary.

import { Cluster, Redis } from 'ioredis';
import { JiraTokenError } from '../../src/errors';
import { RedisTokenStore } from '../../src/redis/redis-token-store';
import type { UserRef } from '../../src/types';
import { type Harness, SITE, createHarness } from '../../../test/support/manager-harness';
import { type RedisCluster, startRedisCluster } from '../../../support/redis-cluster';

const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
const member = (user: UserRef): string => `${b64(user.clientKey)}.${b64(user.accountId)}`;

let cluster: RedisCluster;
let client: Cluster;
/** One plain connection per primary, by port, to ask and to pause it. */
const primaries = new Map<number, Redis>();
let h: Harness;
let store: RedisTokenStore;

/** The port of the primary serving `key`'s slot. */
async function primaryOf(key: string): Promise<number> {
  const [any] = primaries.values();
  const slot = Number(await any.cluster('KEYSLOT', key));
  const ranges = (await any.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  return ranges.find(([from, to]) => from <= slot && slot <= to)![2][1];
}

/** Every key under the harness's prefix, on every primary. */
async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const node of primaries.values()) keys.push(...(await node.keys(`${h.keyPrefix}*`)));
  return keys;
}

/** The primary holding the idle-index entry of each user, found in the data (whatever the layout). */
async function indexPrimaries(users: UserRef[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const [port, node] of primaries) {
    for (const key of await node.keys(`${h.keyPrefix}*`)) {
      if ((await node.type(key)) !== 'zset' || !key.endsWith(':idle')) continue;
      for (const user of users)
        if ((await node.zscore(key, member(user))) !== null) found.set(member(user), port);
    }
  }
  return found;
}

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  for (const { port } of cluster.startupNodes) {
    primaries.set(port, new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 }));
  }
  client = new Cluster(cluster.startupNodes, {
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1_000 },
  });
  await client.ping();
}, 60_000);

afterAll(async () => {
  await h?.close();
  client?.disconnect();
  for (const node of primaries.values()) node.disconnect();
  await cluster?.close();
});

test('writes paused on the primary of some tenants’ index shard: every user elsewhere rotates once; only users on that primary get 503', async () => {
  // The harness's own Redis (the shared one) is only used to clean up; everything here is on the cluster.
  const accounts = Array.from({ length: 30 }, (_, t) =>
    [1, 2].map((n) => ({
      accountId: `sim-user-${t}-${n}`,
      name: `User ${t}-${n}`,
      email: `user-${t}-${n}@example.com`,
      siteIds: [SITE.cloudId],
    })),
  ).flat();
  h = await createHarness('redis', {}, { sim: { accounts } });
  store = new RedisTokenStore({ redis: client, keyPrefix: h.keyPrefix, logger: h.logger });
  // Users on the paused primary give up within 5 s; the budgets nest under it (invariant 10).
  const budgets = {
    requestTimeoutMs: 1_000,
    tokenRequestAttempts: 1,
    leaseMs: 2_000,
    lockTtlMs: 2_000,
    noticeTimeoutMs: 200,
    waitTimeoutMs: 5_000,
  };
  const manager = h.sibling({ redis: client, store, ...budgets });
  const other = h.sibling({ redis: client, store, ...budgets });
  await Promise.all([manager.ready(), other.ready()]);

  // 30 tenants of 2 users each, connected.
  const users: UserRef[] = [];
  for (let t = 0; t < 30; t++)
    for (const n of [1, 2])
      users.push({ clientKey: `${h.user.clientKey}-${t}`, accountId: `sim-user-${t}-${n}` });
  for (const user of users) {
    const tokens = h.server.sim.consent(user.accountId);
    await manager.save(user, tokens, SITE);
  }
  await manager.whenIdle();

  // Where each user's record and index entry live. The paused primary P holds the index of a
  // user whose record is elsewhere.
  const recordOn = new Map<string, number>();
  for (const user of users) {
    recordOn.set(
      member(user),
      await primaryOf(`${h.keyPrefix}{t:${b64(user.clientKey)}}:u:${b64(user.accountId)}`),
    );
  }
  const indexOn = await indexPrimaries(users);
  expect(indexOn.size).toBe(users.length);
  const paused = indexOn.get(member(users.find((u) => indexOn.get(member(u)) !== recordOn.get(member(u)))!))!;
  const onPaused = users.filter((u) => recordOn.get(member(u)) === paused);
  const elsewhere = users.filter((u) => recordOn.get(member(u)) !== paused);
  const indexedOnPaused = elsewhere.filter((u) => indexOn.get(member(u)) === paused);
  // The interesting users exist on every side: records elsewhere with their index on P, records on P.
  expect(indexedOnPaused.length).toBeGreaterThan(0);
  expect(onPaused.length).toBeGreaterThan(0);
  // The index shards span all three primaries, and the listings find every user across them.
  expect(new Set(indexOn.values()).size).toBe(3);
  const idle = await store.listIdleSince(h.server.sim.clock.now() + 1, 1_000);
  expect(idle.map(({ user }) => member(user)).sort()).toEqual(users.map(member).sort());
  const listed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAll(cursor, 10);
    listed.push(...page.records.map(({ user }) => member(user)));
    cursor = page.cursor;
  } while (cursor !== undefined);
  expect(listed.sort()).toEqual(users.map(member).sort());

  h.expire();
  const pauser = primaries.get(paused)!;
  await pauser.call('CLIENT', 'PAUSE', '20000', 'WRITE');
  try {
    // Each user: 3 requests from two managers at once.
    const outcomes = await Promise.all(
      users.map(async (user) => {
        const calls = [manager, other, manager].map((m) =>
          m.getAccessToken(user).then(
            (token) => ({ ok: true as const, token: token.accessToken }),
            (error: unknown) => ({ ok: false as const, status: (error as JiraTokenError).status }),
          ),
        );
        return { user, results: await Promise.all(calls) };
      }),
    );
    const served = outcomes.filter(({ results }) => results.every((r) => r.ok));
    const refused = outcomes.filter(({ results }) => results.every((r) => !r.ok && r.status === 503));
    expect(served.map(({ user }) => member(user)).sort()).toEqual(elsewhere.map(member).sort());
    expect(refused.map(({ user }) => member(user)).sort()).toEqual(onPaused.map(member).sort());
    // One token per user, shared by its three requests.
    for (const { results } of served) expect(new Set(results.map((r) => r.ok && r.token)).size).toBe(1);
    // Exactly one rotation per user served, none for the others, nothing revoked.
    expect(h.server.sim.stats()).toMatchObject({
      rotations: elsewhere.length,
      leewayReuses: 0,
      revocations: 0,
    });
    for (const user of elsewhere) expect((await manager.status(user))?.state).toBe('active');
  } finally {
    await pauser.call('CLIENT', 'UNPAUSE');
  }

  // The upkeeps the pause made fail were counted and logged once per burst, not per request.
  await Promise.all([manager.whenIdle(), other.whenIdle()]);
  const { failures, unindexed } = store.indexHealth();
  expect(failures).toBeGreaterThanOrEqual(indexedOnPaused.length);
  expect(unindexed).toBe(indexedOnPaused.length);
  const warnings = h.logger.entries.filter((e) => String(e.msg).includes('index upkeep failed'));
  expect(warnings).toHaveLength(1);

  // The next listing (a sweeper's) redoes them: every served user's idle entry has its new rotation.
  await store.listByState('in_doubt', 10);
  await store.settled();
  expect(store.indexHealth().unindexed).toBe(0);
  const after = await store.listIdleSince(h.server.sim.clock.now() + 1, 1_000);
  expect(after.map(({ user }) => member(user)).sort()).toEqual(users.map(member).sort());
  const rotatedAt = new Map(after.map(({ user, record }) => [member(user), record.lastRotatedAt]));
  for (const user of elsewhere) expect(rotatedAt.get(member(user))).toBe(h.server.sim.clock.now());
  expect((await allKeys()).some((key) => key.includes('{idx}'))).toBe(false);
}, 60_000);
