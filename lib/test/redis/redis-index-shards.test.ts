// RedisTokenStore's sharded indexes on one Redis: every listing walks all 16 shards and merges
// them in order, and the rebuild moves the unsharded `{idx}` indexes of earlier versions into them.

import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisTokenStore } from '../../src/redis/redis-token-store';
import { INDEX_SHARDS, indexShard } from '../../src/redis/redis-token-keys';
import type { StoredRecord } from '../../src/store/token-store';
import type { TokenRecord, UserRef } from '../../src/types';
import { type Harness, SITE, createHarness } from '../../../test/support/manager-harness';
import { recordingLogger } from './redis-fixtures';

const T0 = 1_700_000_000_000;
const FILE_PREFIX = `jtr-test:index-shards:${process.pid}:${randomUUID().slice(0, 8)}:`;
const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
const member = (user: UserRef): string => `${b64(user.clientKey)}.${b64(user.accountId)}`;

let redis: Redis;
let prefix: string;
let count = 0;

/** Two tenants in each shard, two users each: 64 users, the nth with its own deadline and age. */
function usersInEveryShard(): UserRef[] {
  const tenants = new Map<number, string[]>();
  for (let i = 0; [...tenants.values()].filter((t) => t.length === 2).length < INDEX_SHARDS; i++) {
    const clientKey = `tenant-${i}.atlassian.net`;
    const inShard = tenants.get(indexShard(clientKey)) ?? [];
    if (inShard.length < 2) tenants.set(indexShard(clientKey), [...inShard, clientKey]);
  }
  return [...tenants.values()]
    .flat()
    .flatMap((clientKey) => [1, 2].map((n) => ({ clientKey, accountId: `557058:${n}` })));
}

/** In doubt, with deadlines and rotation times in the reverse order of `users`, so no shard is in order by chance. */
function inDoubtRecord(n: number, total: number): TokenRecord {
  return {
    generation: 'gen-1',
    version: 1,
    state: 'in_doubt',
    inDoubt: { since: T0, deadline: T0 + 540_000 + (total - n), reason: 'timeout' },
    expiresAt: T0 + 3_600_000,
    lastRotatedAt: T0 - (total - n) * 1_000,
    familyStartedAt: T0,
    ciphertext: 'k1.SECRET-CIPHERTEXT',
  };
}

async function keysUnder(pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: pattern, count: 1000 }))
    keys.push(...(batch as string[]));
  return keys.sort();
}

const ids = (records: StoredRecord[]): string[] => records.map(({ user }) => member(user));

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
});

beforeEach(() => {
  prefix = `${FILE_PREFIX}${++count}:`;
});

afterAll(async () => {
  const keys = await keysUnder(`${FILE_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

test('every listing walks all 16 shards and merges them in index order', async () => {
  const store = new RedisTokenStore({ redis, keyPrefix: prefix, now: () => T0 });
  const users = usersInEveryShard();
  for (const [n, user] of users.entries())
    await store.compareAndSet(user, null, inDoubtRecord(n, users.length));
  await store.settled();

  // Each shard's keys hold its own four users, and nothing else is indexed anywhere.
  for (let shard = 0; shard < INDEX_SHARDS; shard++) {
    const own = users
      .filter((user) => indexShard(user.clientKey) === shard)
      .map(member)
      .sort();
    await expect(redis.zrange(`${prefix}{idx:${shard}}:idle`, 0, -1).then((m) => m.sort())).resolves.toEqual(
      own,
    );
    await expect(
      redis.zrange(`${prefix}{idx:${shard}}:state:in_doubt`, 0, -1).then((m) => m.sort()),
    ).resolves.toEqual(own);
  }
  const indexKeys = (await keysUnder(`${prefix}{idx*`)).filter((key) => !key.includes('{t:'));
  expect(indexKeys).toHaveLength(INDEX_SHARDS * 2);

  // Soonest deadline first, across shards: the last user written first.
  const byDeadline = users.map(member).reverse();
  expect(ids(await store.listByState('in_doubt', 100))).toEqual(byDeadline);
  expect(ids(await store.listByState('in_doubt', 5))).toEqual(byDeadline.slice(0, 5));
  // Oldest rotation first, across shards: the first user written first.
  expect(ids(await store.listIdleSince(T0 + 1, 100))).toEqual(users.map(member));
  expect(ids(await store.listIdleSince(T0 - (users.length - 3) * 1_000, 100))).toEqual(
    users.slice(0, 3).map(member),
  );
  // Every record once, page by page through the shards.
  const listed: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.listAll(cursor, 3);
    listed.push(...ids(page.records));
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== undefined);
  expect(listed.sort()).toEqual(users.map(member).sort());
  expect(pages).toBeGreaterThanOrEqual(INDEX_SHARDS);
});

test('the first listing rebuilds the unsharded {idx} indexes of an earlier version into the shards', async () => {
  const writer = new RedisTokenStore({ redis, keyPrefix: prefix, now: () => T0 });
  const users = usersInEveryShard().slice(0, 12);
  for (const [n, user] of users.entries())
    await writer.compareAndSet(user, null, inDoubtRecord(n, users.length));
  await writer.settled();
  // What an earlier version left: the same entries in the `{idx}` slot, and none in the shards.
  const shardKeys = (await keysUnder(`${prefix}{idx:*`)).filter((key) => !key.includes('{t:'));
  await redis.del(...shardKeys);
  for (const [n, user] of users.entries()) {
    const record = inDoubtRecord(n, users.length);
    await redis.zadd(`${prefix}{idx}:state:in_doubt`, record.inDoubt!.deadline, member(user));
    await redis.zadd(`${prefix}{idx}:idle`, record.lastRotatedAt, member(user));
  }

  // A process of this version starts: its sweeper's first listing finds every chain.
  const logger = recordingLogger();
  const store = new RedisTokenStore({ redis, keyPrefix: prefix, now: () => T0, logger });
  expect(ids(await store.listByState('in_doubt', 100))).toEqual(users.map(member).reverse());
  expect(logger.info).toHaveBeenCalledWith(
    { store: 'RedisTokenStore', records: 12, legacyKeysDeleted: 2 },
    expect.stringContaining('rebuilt into their shards'),
  );
  await expect(redis.exists(`${prefix}{idx}:state:in_doubt`, `${prefix}{idx}:idle`)).resolves.toBe(0);
  expect(ids(await store.listIdleSince(T0 + 1, 100))).toEqual(users.map(member));

  // By hand, again: idempotent, and nothing left to delete.
  await expect(store.rebuildIndexes()).resolves.toEqual({ records: 12, legacyKeysDeleted: 0 });
  expect(logger.info).toHaveBeenCalledTimes(1);
});

describe('the sweepers', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('the in-doubt sweeper and the keep-alive each reach a chain in every one of the 16 shards', async () => {
    // One tenant per shard, one user each, each an account of the simulator.
    const users: UserRef[] = [];
    for (let i = 0; users.length < INDEX_SHARDS; i++) {
      const clientKey = `tenant-${i}.atlassian.net`;
      if (!users.some((u) => indexShard(u.clientKey) === indexShard(clientKey)))
        users.push({ clientKey, accountId: `sweep-user-${i}` });
    }
    const accounts = users.map(({ accountId }) => ({
      accountId,
      name: accountId,
      email: `${accountId}@example.com`,
      siteIds: [SITE.cloudId],
    }));
    h = await createHarness(
      'redis',
      { tokenRequestAttempts: 1, keepAliveRatePerSecond: 10_000 },
      { sim: { accounts } },
    );
    const sim = h.server.sim;
    for (const user of users) await h.manager.save(user, sim.consent(user.accountId), SITE);

    // Every rotation is committed by the server but answered with a 5xx: 16 chains in doubt.
    sim.scriptOutcomes(users.map(() => 'server_error_after_commit'));
    h.expire();
    for (const user of users)
      await expect(h.manager.getAccessToken(user)).rejects.toMatchObject({ status: 503 });
    await h.manager.whenIdle();
    for (const user of users) expect((await h.manager.status(user))?.state).toBe('in_doubt');

    // One sweep finds and recovers all 16, reusing each previous token inside the leeway.
    sim.clock.advance(60_000);
    await expect(h.manager.recoverInDoubt()).resolves.toBe(INDEX_SHARDS);
    expect(sim.stats()).toMatchObject({
      rotations: INDEX_SHARDS,
      leewayReuses: INDEX_SHARDS,
      revocations: 0,
    });
    for (const user of users) expect((await h.manager.status(user))?.state).toBe('active');

    // 31 days on, one keep-alive sweep rotates every chain, in every shard, once.
    sim.clock.advance(31 * 24 * 3_600_000);
    await expect(h.manager.keepAlive()).resolves.toEqual({
      swept: true,
      rotated: INDEX_SHARDS,
      failed: 0,
      skipped: 0,
    });
    expect(sim.stats()).toMatchObject({
      rotations: 2 * INDEX_SHARDS,
      leewayReuses: INDEX_SHARDS,
      revocations: 0,
    });
  });
});
