// What a rotation asks of Redis, and in which order: the notice that wakes other processes goes
// out right after the compare-and-set, without waiting for index upkeep; nothing is written to an
// index before a compare-and-set; and the exact commands per rotation.

import Redis from 'ioredis';
import { RedisProbe } from '../../../bench/redis/redis-probe';
import type { TokenManager } from '../../src';
import { indexShard } from '../../src/redis/redis-token-keys';
import { SCRIPT_COMMANDS } from '../../src/redis/redis-token-store-scripts';
import { type Harness, REDIS_URL, createHarness } from '../../../test/support/manager-harness';
import { type RedisServer, startRedisServer } from '../../../support/redis-server';
import { holdNextAnswer } from '../../../test/support/sim-server';
import { recordCommands } from './redis-fixtures';

type ScriptFn = (...args: string[]) => Promise<unknown>;

/** The index entry of the harness's user in one index, as Redis has it. */
async function indexScore(h: Harness, index: string): Promise<string | null> {
  const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
  const member = `${b64(h.user.clientKey)}.${b64(h.user.accountId)}`;
  return h.redis!.zscore(`${h.keyPrefix}{idx:${indexShard(h.user.clientKey)}}:${index}`, member);
}

describe('the notice of a rotation', () => {
  let h: Harness;
  let holderClient: Redis;

  afterEach(async () => {
    await h.close();
    await holderClient.quit();
  });

  test('wakes a waiter in another process while the holder’s index upkeep still hangs', async () => {
    h = await createHarness('redis');
    // The holder has a Redis connection of its own, as another process would.
    holderClient = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const holder = h.sibling({ redis: holderClient });
    // A waiter that never re-reads on its own: only the notice can wake it within the test.
    const waiter = h.sibling({ noticeTimeoutMs: 600_000, waitTimeoutMs: 1_200_000 });
    await Promise.all([holder.ready(), waiter.ready()]);
    await h.consent();
    h.expire();

    // Every index upkeep of the holder's store hangs until released.
    const scripts = holderClient as unknown as Record<string, ScriptFn>;
    const upkeep = scripts[SCRIPT_COMMANDS.indexWritten].bind(holderClient);
    const hung: (() => void)[] = [];
    scripts[SCRIPT_COMMANDS.indexWritten] = (...args) =>
      new Promise((resolve, reject) => hung.push(() => upkeep(...args).then(resolve, reject)));

    const held = holdNextAnswer(h.probe);
    const first = holder.getAccessToken(h.user);
    await held.arrived;
    const second = waiter.getAccessToken(h.user);
    await h.logger.waitForEvent('lease_held_elsewhere');
    held.release();

    const [a, b] = await Promise.all([first, second]);
    expect(b.accessToken).toBe(a.accessToken);
    expect(h.probe.secrets.has(a.accessToken)).toBe(true);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 0, revocations: 0 });
    // Both upkeeps (after the lease, after the rotation) are still held, and nothing was written
    // to an index before them: the rotation never waited on an index.
    expect(hung).toHaveLength(2);
    expect(await indexScore(h, 'state:rotating')).toBeNull();

    // Once the upkeep runs, the indexes are what the record needs.
    for (const run of hung) run();
    await holder.whenIdle();
    const status = await holder.status(h.user);
    expect(status?.state).toBe('active');
    expect(await indexScore(h, 'state:rotating')).toBeNull();
    expect(await indexScore(h, 'idle')).toBe(String(status?.lastRotatedAt));
  });
});

describe('Redis commands per rotation', () => {
  let server: RedisServer;
  let h: Harness;
  let client: Redis;
  let probe: RedisProbe;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server.close();
  });

  afterEach(async () => {
    await h.close();
    await client.quit();
    await probe.close();
  });

  test('a lone rotation sends 9 commands, 4 of them before the token request', async () => {
    h = await createHarness('redis', {}, { redisUrl: server.url });
    client = new Redis(server.url);
    const manager: TokenManager = h.sibling({ redis: client });
    await manager.ready();
    probe = new RedisProbe(server.url);
    await h.consent();
    // One rotation first, so every script is loaded and nothing below is a one-off.
    h.expire();
    await manager.getAccessToken(h.user);
    await manager.whenIdle();

    const sent = recordCommands(client);
    let beforeTokenRequest: string[] = [];
    h.probe.interceptNext((send) => {
      beforeTokenRequest = [...sent];
      return send();
    });
    const before = await probe.commandCalls();
    h.expire();
    await manager.getAccessToken(h.user);
    await manager.whenIdle();
    const after = await probe.commandCalls();

    const delta = Object.fromEntries(
      Object.entries(after)
        .filter(([name]) => name !== 'info')
        .map(([name, calls]) => [name, calls - (before[name] ?? 0)])
        .filter(([, calls]) => calls !== 0),
    );
    expect(h.server.sim.stats().rotations).toBe(2);
    // What the app sent, in order. Before the token request: read, lock and lease CAS, each awaited
    // in turn, then the lease's index upkeep, sent without waiting for its answer. (Until the
    // indexes were sharded, an index entry was ZADDed and awaited before the lease CAS: 10 commands,
    // 4 round trips before the token request, and an index node on every rotation's critical path.)
    expect(beforeTokenRequest).toEqual(['hmget', 'evalsha', 'evalsha', 'evalsha']);
    // After the answer: the CAS, then the upkeep and the notice together; then, in either order,
    // the unlock and the upkeep's re-read (it removed the lease's entry).
    expect(sent.slice(4, 7)).toEqual(['evalsha', 'evalsha', 'publish']);
    expect(sent.slice(7).sort()).toEqual(['evalsha', 'hmget']);
    expect(sent).toHaveLength(9);
    // Redis's own count, which adds what the scripts ran: the lock's SELECT, EXISTS, SET and
    // SELECT, GET, DEL; the two CAS's HMGET, HSET, SADD; the upkeeps' ZADD and ZREM per index.
    expect(delta).toEqual({
      hmget: 2 + 2,
      evalsha: 6,
      zadd: 3,
      publish: 1,
      select: 2,
      exists: 1,
      set: 1,
      get: 1,
      del: 1,
      hset: 2,
      sadd: 2,
      zrem: 5,
    });
  });
});
