// RedisTokenStore against a real Redis: raw keys, slots, index upkeep, and its failures.

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { StoreUnavailableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import { RedisTokenStore } from '../../src/redis/redis-token-store';
import { INDEX_SHARDS, indexShard } from '../../src/redis/redis-token-keys';
import { SCRIPT_COMMANDS } from '../../src/redis/redis-token-store-scripts';
import { MalformedStoredRecordError } from '../../src/store/token-store-validation';
import type { TokenRecord, UserRef } from '../../src/types';
import { recordCommands } from './redis-fixtures';

const T0 = 1_700_000_000_000;
const FILE_PREFIX = `jtr-test:redis-store:${process.pid}:${randomUUID().slice(0, 8)}:`;

/** CRC16-XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Cluster slot of a key: of its first non-empty `{…}` if it has one, else of the whole key. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(hashed) % 16384;
}

const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    generation: 'gen-1',
    version: 1,
    state: 'active',
    expiresAt: T0 + 3_600_000,
    lastRotatedAt: T0,
    familyStartedAt: T0,
    ciphertext: 'k1.SECRET-CIPHERTEXT',
    ...overrides,
  };
}

const inDoubt = (deadline: number): Partial<TokenRecord> => ({
  state: 'in_doubt',
  inDoubt: { since: deadline - 540_000, deadline, reason: 'timeout' },
});

function recordingLogger(): Logger & { warn: jest.Mock } {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

let redis: Redis;
let storeCount = 0;
let prefix: string;
let now: number;
let logger: ReturnType<typeof recordingLogger>;
let store: RedisTokenStore;

const recordKey = (user: UserRef): string => `${prefix}{t:${b64(user.clientKey)}}:u:${b64(user.accountId)}`;
const tenantKey = (clientKey: string): string => `${prefix}{t:${b64(clientKey)}}:users`;
/** The index `name` of the shard of `clientKey` (the tenant of `u(n)` unless given). */
const indexKey = (name: string, clientKey = 'tenant-1'): string =>
  `${prefix}{idx:${indexShard(clientKey)}}:${name}`;
const member = (user: UserRef): string => `${b64(user.clientKey)}.${b64(user.accountId)}`;

async function keysUnder(pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: pattern, count: 1000 }))
    keys.push(...(batch as string[]));
  return keys.sort();
}

type ScriptFn = (...args: string[]) => Promise<unknown>;

/** Puts `fn` in place of one of the store's scripts on `client`; returns the real one, bound. */
function standIn(client: Redis, name: string, fn: ScriptFn): ScriptFn {
  const scripts = client as unknown as Record<string, ScriptFn>;
  const real = scripts[name].bind(client);
  scripts[name] = fn;
  return real;
}

function storeOn(client: Redis, options: { logger?: Logger } = {}): RedisTokenStore {
  return new RedisTokenStore({ redis: client, keyPrefix: prefix, now: () => now, ...options });
}

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
});

beforeEach(() => {
  prefix = `${FILE_PREFIX}${++storeCount}:`;
  now = T0;
  logger = recordingLogger();
  store = storeOn(redis, { logger });
});

afterAll(async () => {
  const keys = await keysUnder(`${FILE_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('the CRC16 test helper', () => {
  it('matches the checksum and slots Redis documents', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(2515);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') % 16384);
  });
});

describe('RedisTokenStore keys', () => {
  const user: UserRef = { clientKey: 'x{y}:z', accountId: '557058:abc' };

  it('stores a record as a hash under the tenant tag, with a tenant set and index entries', async () => {
    const first = record();
    const second = record({ version: 2, lastRotatedAt: T0 + 5, ...inDoubt(T0 + 540_000) });
    await store.compareAndSet(user, null, first);
    await store.compareAndSet(user, first, second);

    expect(recordKey(user)).toBe(`${prefix}{t:eHt5fTp6}:u:NTU3MDU4OmFiYw`);
    await expect(keysUnder(`${prefix}*`)).resolves.toEqual(
      [
        recordKey(user),
        tenantKey(user.clientKey),
        indexKey('idle', user.clientKey),
        indexKey('state:in_doubt', user.clientKey),
      ].sort(),
    );
    await expect(redis.type(recordKey(user))).resolves.toBe('hash');
    const hash = await redis.hgetall(recordKey(user));
    expect(hash).toEqual({
      generation: 'gen-1',
      version: '2',
      state: 'in_doubt',
      record: expect.any(String),
    });
    expect(JSON.parse(hash.record)).toEqual(second);
    await expect(redis.smembers(tenantKey(user.clientKey))).resolves.toEqual([b64(user.accountId)]);
    await expect(
      redis.zrange(indexKey('state:in_doubt', user.clientKey), 0, -1, 'WITHSCORES'),
    ).resolves.toEqual([member(user), String(T0 + 540_000)]);
    await expect(redis.zrange(indexKey('idle', user.clientKey), 0, -1, 'WITHSCORES')).resolves.toEqual([
      member(user),
      String(T0 + 5),
    ]);
  });

  it("keeps a record and its tenant set in the tenant slot, and the tenant's indexes in its shard's slot", async () => {
    const tenants = ['a', 'a:b', 'x{y}', '*', 'line\nbreak', 'ünïcødé', '{idx}'];
    for (const clientKey of tenants) {
      const someone = { clientKey, accountId: `${clientKey}:1` };
      const slot = crc16(`t:${b64(clientKey)}`) % 16384;
      expect(keySlot(recordKey(someone))).toBe(slot);
      expect(keySlot(recordKey({ clientKey, accountId: 'other}{' }))).toBe(slot);
      expect(keySlot(tenantKey(clientKey))).toBe(slot);
      await store.compareAndSet(someone, null, record());
      await store.settled();
      // The tenant's entry is in its shard's idle index, under the shard's own hash tag.
      await expect(redis.zscore(indexKey('idle', clientKey), member(someone))).resolves.toBe(String(T0));
      const shardSlot = crc16(`idx:${indexShard(clientKey)}`) % 16384;
      for (const name of ['idle', 'state:rotating', 'state:in_doubt', 'state:reauthorization_required']) {
        expect(keySlot(indexKey(name, clientKey))).toBe(shardSlot);
      }
    }
    // Every key the store wrote is one of those computed above, or an index shard.
    const written = await keysUnder(`${prefix}*`);
    const tenantKeys = tenants.flatMap((clientKey) => [
      recordKey({ clientKey, accountId: `${clientKey}:1` }),
      tenantKey(clientKey),
    ]);
    const shards = [...new Set(tenants.map((clientKey) => indexKey('idle', clientKey)))];
    expect(written).toEqual([...tenantKeys, ...shards].sort());
    // No key in the unsharded `{idx}` slot of earlier versions.
    expect(written.filter((key) => keySlot(key) === crc16('idx') % 16384)).toEqual([]);
  });

  it('spreads tenants over 16 shards by FNV-1a of the client key, each shard in a slot of its own', () => {
    expect(INDEX_SHARDS).toBe(16);
    // FNV-1a 32-bit of the UTF-8 bytes: the published test vectors, modulo 16.
    expect(indexShard('')).toBe(0x811c9dc5 % 16);
    expect(indexShard('a')).toBe(0xe40c292c % 16);
    expect(indexShard('foobar')).toBe(0xbf9cf968 % 16);
    const counts = new Array<number>(INDEX_SHARDS).fill(0);
    for (let i = 0; i < 1600; i++) counts[indexShard(`tenant-${i}.atlassian.net`)] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    const slots = new Set(Array.from({ length: INDEX_SHARDS }, (_, shard) => crc16(`idx:${shard}`) % 16384));
    expect(slots.size).toBe(INDEX_SHARDS);
  });

  it("deletes one user's record hash, tenant-set member and index entries", async () => {
    const other = { clientKey: user.clientKey, accountId: 'other' };
    await store.compareAndSet(user, null, record({ ...inDoubt(T0 + 9) }));
    await store.compareAndSet(other, null, record());

    await expect(store.delete(user)).resolves.toBe(true);

    await expect(keysUnder(`${prefix}*`)).resolves.toEqual(
      [recordKey(other), tenantKey(user.clientKey), indexKey('idle', user.clientKey)].sort(),
    );
    await expect(redis.smembers(tenantKey(user.clientKey))).resolves.toEqual([b64('other')]);
    await expect(redis.zrange(indexKey('idle', user.clientKey), 0, -1)).resolves.toEqual([member(other)]);
  });

  it('purges one tenant: its record hashes, its set and its index entries, nothing else', async () => {
    const a1 = { clientKey: 'a', accountId: 'b:c' };
    const a2 = { clientKey: 'a', accountId: 'd' };
    const ab = { clientKey: 'a:b', accountId: 'c' };
    for (const user of [a1, a2, ab])
      await store.compareAndSet(user, null, record({ state: 'reauthorization_required' }));

    await expect(store.deleteTenant('a')).resolves.toBe(2);

    await expect(keysUnder(`${prefix}*`)).resolves.toEqual(
      [
        recordKey(ab),
        tenantKey('a:b'),
        indexKey('idle', 'a:b'),
        indexKey('state:reauthorization_required', 'a:b'),
      ].sort(),
    );
    await expect(redis.zrange(indexKey('idle', 'a:b'), 0, -1)).resolves.toEqual([member(ab)]);
    await expect(redis.zrange(indexKey('state:reauthorization_required', 'a:b'), 0, -1)).resolves.toEqual([
      member(ab),
    ]);
  });
});

describe('RedisTokenStore indexes', () => {
  const u = (n: number): UserRef => ({ clientKey: 'tenant-1', accountId: `user-${n}` });

  it('writes no index before the compare-and-set: a write that fails leaves every index untouched', async () => {
    const client = redis.duplicate();
    try {
      const failing = storeOn(client);
      await failing.compareAndSet(u(1), null, record());
      await failing.settled();
      const sent = recordCommands(client);
      // The record's slot fails (its node paused, or the process dies) at the compare-and-set.
      standIn(client, SCRIPT_COMMANDS.compareAndSet, () =>
        Promise.reject(new Error('Connection is closed.')),
      );

      await expect(
        failing.compareAndSet(
          u(1),
          { generation: 'gen-1', version: 1 },
          record({ version: 2, ...inDoubt(T0 + 540_000) }),
        ),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await failing.settled();

      // Not one command reached Redis: no index write waits in front of the compare-and-set.
      expect(sent).toEqual([]);
      await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBeNull();
      await expect(store.get(u(1))).resolves.toEqual(record());
    } finally {
      await client.quit();
    }
  });

  it('counts failed upkeeps, warns at most once a minute, and the next listing indexes the writes again', async () => {
    const client = redis.duplicate();
    try {
      const flaky = storeOn(client, { logger });
      for (const n of [1, 2, 3]) await flaky.compareAndSet(u(n), null, record());
      await flaky.settled();
      // The index shard's node stops answering: three writes into in_doubt lose their upkeep.
      const real = standIn(client, SCRIPT_COMMANDS.indexWritten, () =>
        Promise.reject(new Error('Command timed out')),
      );
      for (const n of [1, 2, 3]) {
        await expect(
          flaky.compareAndSet(
            u(n),
            { generation: 'gen-1', version: 1 },
            record({ version: 2, ...inDoubt(T0 + n) }),
          ),
        ).resolves.toBe(true);
      }
      await flaky.settled();
      expect(flaky.indexHealth()).toEqual({ failures: 3, unindexed: 3 });
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0][0]).toMatchObject({ operation: 'compareAndSet', failures: 1 });
      await expect(redis.zcard(indexKey('state:in_doubt'))).resolves.toBe(0);
      // A minute later, the next failure is logged with the two kept quiet before it.
      now = T0 + 60_000;
      await expect(
        flaky.compareAndSet(
          u(1),
          { generation: 'gen-1', version: 2 },
          record({ version: 3, ...inDoubt(T0 + 1) }),
        ),
      ).resolves.toBe(true);
      await flaky.settled();
      expect(logger.warn).toHaveBeenCalledTimes(2);
      expect(logger.warn.mock.calls[1][0]).toMatchObject({ operation: 'compareAndSet', failures: 3 });
      expect(flaky.indexHealth()).toEqual({ failures: 4, unindexed: 3 });
      now = T0;

      // The node is back. A listing (the sweeper's) starts the retry; the one after finds them all.
      standIn(client, SCRIPT_COMMANDS.indexWritten, real);
      await flaky.listByState('in_doubt', 10);
      await flaky.settled();
      expect(flaky.indexHealth()).toEqual({ failures: 4, unindexed: 0 });
      // u1's entry is its last write's (version 3), not the one that failed first.
      await expect(flaky.listByState('in_doubt', 10)).resolves.toEqual([
        { user: u(1), record: record({ version: 3, ...inDoubt(T0 + 1) }) },
        ...[2, 3].map((n) => ({ user: u(n), record: record({ version: 2, ...inDoubt(T0 + n) }) })),
      ]);
      expect(logger.warn).toHaveBeenCalledTimes(2);
    } finally {
      await client.quit();
    }
  });

  it('a listing adds the entry of a record it finds in another non-active state (its upkeep was lost)', async () => {
    const inDoubtRecord = record({ version: 2, ...inDoubt(T0 + 540_000) });
    await store.compareAndSet(u(1), null, record());
    await store.compareAndSet(u(1), { generation: 'gen-1', version: 1 }, inDoubtRecord);
    await store.settled();
    // A recovery's lease was written, and its holder died before its upkeep was sent: the record is
    // rotating (still in doubt), the rotating index does not know it.
    const lease = { fence: 'f', startedAt: T0, until: T0 + 25_000 };
    await redis.hset(recordKey(u(1)), {
      version: '3',
      state: 'rotating',
      record: JSON.stringify({ ...inDoubtRecord, version: 3, state: 'rotating', lease }),
    });
    await expect(store.listByState('rotating', 10)).resolves.toEqual([]);

    // The in_doubt listing meets it, and files it where it now belongs.
    await expect(store.listByState('in_doubt', 10)).resolves.toEqual([]);
    await expect(redis.zscore(indexKey('state:rotating'), member(u(1)))).resolves.toBe(String(T0 + 25_000));
    await expect(store.listByState('rotating', 10)).resolves.toEqual([
      { user: u(1), record: { ...inDoubtRecord, version: 3, state: 'rotating', lease } },
    ]);
  });

  it('indexes a write after it, whatever a cleanup removed just before', async () => {
    const client = redis.duplicate();
    try {
      const racing = storeOn(client);
      await racing.compareAndSet(u(1), null, record());
      // A sweeper that read the record while still active removes the fresh entry just before the write.
      const script = standIn(client, SCRIPT_COMMANDS.compareAndSet, async (...args) => {
        await redis.zrem(indexKey('state:in_doubt'), member(u(1)));
        return script(...args);
      });

      await expect(
        racing.compareAndSet(
          u(1),
          { generation: 'gen-1', version: 1 },
          record({ version: 2, ...inDoubt(T0 + 9) }),
        ),
      ).resolves.toBe(true);

      await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBe(String(T0 + 9));
    } finally {
      await client.quit();
    }
  });

  it('resolves a write before its index upkeep has finished; settled() waits for the upkeep', async () => {
    const client = redis.duplicate();
    try {
      const slow = storeOn(client);
      await slow.compareAndSet(u(1), null, record(inDoubt(T0 + 9)));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const real = standIn(client, SCRIPT_COMMANDS.indexWritten, async (...args) => {
        await held;
        return real(...args);
      });

      // The write into active is done and visible while its upkeep is still held back.
      await expect(
        slow.compareAndSet(u(1), { generation: 'gen-1', version: 1 }, record({ version: 2 })),
      ).resolves.toBe(true);
      await expect(store.get(u(1))).resolves.toEqual(record({ version: 2 }));
      let settled = false;
      const settling = slow.settled().then(() => (settled = true));
      await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBe(String(T0 + 9));
      expect(settled).toBe(false);

      release();
      await settling;
      await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBeNull();
      await expect(redis.zscore(indexKey('idle'), member(u(1)))).resolves.toBe(String(T0));
    } finally {
      await client.quit();
    }
  });

  it("re-adds the entry of a later write that a writer's upkeep removed", async () => {
    const client = redis.duplicate();
    try {
      const late = storeOn(client);
      await store.compareAndSet(u(1), null, record(inDoubt(T0 + 9)));
      // Between this write (into active) and its upkeep, another process recovers the chain into
      // in_doubt again with a new deadline, index first, and finishes its own upkeep.
      const real = standIn(client, SCRIPT_COMMANDS.indexWritten, async (...args) => {
        await store.compareAndSet(
          u(1),
          { generation: 'gen-1', version: 2 },
          record({ version: 3, ...inDoubt(T0 + 99) }),
        );
        await store.settled();
        return real(...args);
      });

      await expect(
        late.compareAndSet(u(1), { generation: 'gen-1', version: 1 }, record({ version: 2 })),
      ).resolves.toBe(true);
      await late.settled();

      // The late upkeep removed the in_doubt entry, saw a newer record and put its entry back.
      await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBe(String(T0 + 99));
      await expect(store.listByState('in_doubt', 10)).resolves.toEqual([
        { user: u(1), record: record({ version: 3, ...inDoubt(T0 + 99) }) },
      ]);
    } finally {
      await client.quit();
    }
  });

  it('keeps an entry whose record is in another state until its score has passed, then drops it', async () => {
    await store.compareAndSet(u(1), null, record());
    await redis.zadd(indexKey('state:in_doubt'), T0 + 540_000, member(u(1)));

    await expect(store.listByState('in_doubt', 10)).resolves.toEqual([]);
    await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBe(String(T0 + 540_000));

    now = T0 + 540_000;
    await expect(store.listByState('in_doubt', 10)).resolves.toEqual([]);
    await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBeNull();
  });

  it('removes stale state entries while listing: gone records, other states past their score, junk', async () => {
    await store.compareAndSet(u(1), null, record());
    await store.compareAndSet(u(3), null, record());
    await store.compareAndSet(u(4), null, record({ ...inDoubt(T0 + 60_000) }));
    const key = indexKey('state:in_doubt');
    await redis.zadd(
      key,
      T0 - 1,
      member(u(1)),
      T0 + 1_000_000,
      member(u(2)),
      T0 + 1,
      member(u(3)),
      0,
      'junk',
    );

    const listed = await store.listByState('in_doubt', 10);

    expect(listed).toEqual([{ user: u(4), record: record({ ...inDoubt(T0 + 60_000) }) }]);
    // u1: active and past its score; u2: no record; junk: not a user id. u3 may be a write in progress.
    await expect(redis.zrange(key, 0, -1)).resolves.toEqual([member(u(3)), member(u(4))]);
  });

  it('re-adds the entries a record needs after removing a stale one of its user', async () => {
    await store.compareAndSet(u(1), null, record());
    await store.compareAndSet(
      u(1),
      { generation: 'gen-1', version: 1 },
      record({ version: 2, ...inDoubt(T0 + 9) }),
    );
    // As if a cleanup that saw an older state had raced the write: the right entry is gone, a wrong one is left.
    await redis.zrem(indexKey('state:in_doubt'), member(u(1)));
    await redis.zadd(indexKey('state:rotating'), T0 - 1, member(u(1)));

    await expect(store.listByState('rotating', 10)).resolves.toEqual([]);

    await expect(redis.zscore(indexKey('state:rotating'), member(u(1)))).resolves.toBeNull();
    await expect(redis.zscore(indexKey('state:in_doubt'), member(u(1)))).resolves.toBe(String(T0 + 9));
  });

  it('removes idle entries of gone records and raises scores that lag behind their record', async () => {
    await store.compareAndSet(u(1), null, record({ lastRotatedAt: T0 + 5 }));
    await store.compareAndSet(u(2), null, record({ lastRotatedAt: T0 - 10 }));
    await redis.zadd(indexKey('idle'), T0 - 100, member(u(1)), T0 - 50, member(u(9)));

    await expect(store.listIdleSince(T0, 10)).resolves.toEqual([
      { user: u(2), record: record({ lastRotatedAt: T0 - 10 }) },
    ]);

    await expect(redis.zrange(indexKey('idle'), 0, -1, 'WITHSCORES')).resolves.toEqual([
      member(u(2)),
      String(T0 - 10),
      member(u(1)),
      String(T0 + 5),
    ]);
  });

  it('reports a write even when index upkeep after it fails, and logs the failure', async () => {
    const client = redis.duplicate();
    try {
      const flaky = storeOn(client, { logger });
      await flaky.compareAndSet(u(1), null, record());
      standIn(client, SCRIPT_COMMANDS.indexWritten, () => Promise.reject(new Error('Connection is closed.')));

      await expect(
        flaky.compareAndSet(u(1), { generation: 'gen-1', version: 1 }, record({ version: 2 })),
      ).resolves.toBe(true);

      await expect(store.get(u(1))).resolves.toEqual(record({ version: 2 }));
      await flaky.settled();
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn).toHaveBeenCalledWith(
        {
          store: 'RedisTokenStore',
          operation: 'compareAndSet',
          failures: 1,
          err: { name: 'Error', message: 'Connection is closed.' },
        },
        expect.stringContaining('index upkeep failed'),
      );
    } finally {
      await client.quit();
    }
  });
});

describe('RedisTokenStore failures', () => {
  const user: UserRef = { clientKey: 'tenant-1', accountId: 'user-1' };

  it('turns an unreachable Redis into StoreUnavailableError on every method', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const closed = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    closed.on('error', () => undefined);
    const down = new RedisTokenStore({ redis: closed });
    const unavailable = expect.objectContaining({
      code: 'jira_store_unavailable',
      status: 503,
      retryAfterSeconds: 5,
    });

    try {
      const calls = [
        () => down.get(user),
        () => down.compareAndSet(user, null, record()),
        () => down.compareAndSet(user, null, record({ state: 'reauthorization_required' })),
        () => down.delete(user),
        () => down.deleteTenant('tenant-1'),
        () => down.listByState('in_doubt', 10),
        () => down.listIdleSince(T0, 10),
      ];
      for (const call of calls) {
        const error = await call().catch((err: unknown) => err);
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error).toEqual(unavailable);
      }
      // Argument errors are the caller's, not the store's.
      await expect(down.get({ clientKey: '', accountId: 'x' })).rejects.toThrow(TypeError);
    } finally {
      // Once ended, disconnect() would only arm a 2 s timer on the dead socket (ioredis 5).
      if (closed.status !== 'end') closed.disconnect();
    }
  });

  it("keeps a failed command's arguments (the record JSON) out of the translated error", async () => {
    // A key of the wrong type makes the Lua script fail with a Redis error that names its command.
    await redis.set(recordKey(user), 'not a hash');

    const error = await store
      .compareAndSet(user, { generation: 'gen-1', version: 1 }, record({ version: 2 }))
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/^The Jira token store \(Redis\) failed: .*WRONGTYPE/);
    const cause = (error as Error).cause as { command?: unknown };
    expect(cause.command).toEqual({ name: expect.stringMatching(/^eval(sha)?$/) });
    expect(JSON.stringify(cause)).not.toContain('SECRET-CIPHERTEXT');
  });

  it.each([
    ['JSON that does not parse', { record: '{"generation":' }, 'its JSON does not parse'],
    [
      'JSON of the wrong shape',
      { record: JSON.stringify({ ...record(), version: 'one' }) },
      'version is not a non-negative safe integer',
    ],
    [
      'fields that disagree with the JSON',
      { record: JSON.stringify(record({ version: 2 })) },
      'its generation, version or state field disagrees with its JSON',
    ],
    ['no record field', { record: undefined }, 'its hash has no record field'],
  ])('reports a stored record with %s as malformed, without quoting it', async (_case, hash, problem) => {
    const fields: Record<string, string> = { generation: 'gen-1', version: '1', state: 'active' };
    if (hash.record !== undefined) fields.record = hash.record;
    await redis.hset(recordKey(user), fields);

    const error = await store.get(user).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(MalformedStoredRecordError);
    expect(error).toEqual(expect.objectContaining({ code: 'jira_record_unreadable', status: 503 }));
    expect((error as Error).message).toBe(`The stored Jira token record is malformed: ${problem}`);
    expect((error as Error).message).not.toContain('SECRET');
  });

  it('skips a malformed record in a listing, with a warning, and lists the rest', async () => {
    const healthy = { clientKey: 'tenant-1', accountId: 'user-2' };
    await store.compareAndSet(healthy, null, record({ state: 'reauthorization_required' }));
    await store.compareAndSet(user, null, record({ state: 'reauthorization_required' }));
    await redis.hset(recordKey(user), 'record', 'garbage');

    await expect(store.listByState('reauthorization_required', 10)).resolves.toEqual([
      { user: healthy, record: record({ state: 'reauthorization_required' }) },
    ]);

    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({
        member: member(user),
        err: expect.objectContaining({ name: 'MalformedStoredRecordError' }),
      }),
      'Skipping a malformed token record',
    );
    // The unreadable record stays indexed: it is corrupt, not stale.
    await expect(redis.zscore(indexKey('state:reauthorization_required'), member(user))).resolves.toBe('0');
  });
});

describe('RedisTokenStore options', () => {
  it('does not close the client it was given', async () => {
    await store.close();
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('rejects options that would break the hash tags, at construction', () => {
    expect(() => new RedisTokenStore({ redis, keyPrefix: 'app{1}:' })).toThrow(TypeError);
    expect(() => new RedisTokenStore({ redis: undefined as unknown as Redis })).toThrow(TypeError);
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: 'app:' });
    expect(() => new RedisTokenStore({ redis: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
  });
});
