// Replication-acknowledged writes (DESIGN.md invariant 15) on a real primary with one replica: a
// write the replica does not acknowledge (frozen by SIGSTOP, so WAIT times out) is not done.

import Redis from 'ioredis';
import { NotDurableError } from '../../src/errors';
import { RedisTokenStore } from '../../src/redis/redis-token-store';
import type { TokenRecord } from '../../src/types';
import { type RedisServer, startRedisServer } from '../../../support/redis-server';
import { pollUntil } from '../../../support/poll-until';
import { type Harness, createHarness } from '../../../test/support/manager-harness';
import { holdNextAnswer } from '../../../test/support/sim-server';

const user = { clientKey: 'tenant', accountId: 'alice' };
const record: TokenRecord = {
  generation: 'g1',
  version: 1,
  state: 'active',
  expiresAt: 2,
  lastRotatedAt: 1,
  familyStartedAt: 1,
  ciphertext: 'v1.first',
};

/** Resolves once the replica acknowledges a write at once (its first sync loaded, or woken). */
async function replicaAcking(primary: RedisServer): Promise<void> {
  const probe = new Redis(primary.url);
  try {
    await pollUntil(
      async () => {
        await probe.set('acks-probe', String(Math.random()));
        return Number(await probe.call('wait', 1, 100)) === 1;
      },
      'the replica acknowledging',
      10_000,
    );
  } finally {
    probe.disconnect();
  }
}

describe('RedisTokenStore on a primary with a replica', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    // Without the delay Redis waits 5 s for more replicas before the first (diskless) sync.
    primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  });
  beforeEach(() => replicaAcking(primary));
  afterEach(() => {
    replica.resume();
    client?.disconnect();
  });
  afterAll(async () => {
    await replica.stop();
    await primary.stop();
  });

  const store = (options: { replicasToAck?: number | 'auto' } = {}): RedisTokenStore => {
    client = new Redis(primary.url, { maxRetriesPerRequest: 1 });
    return new RedisTokenStore({
      redis: client,
      keyPrefix: `acks-${Math.random()}:`,
      replicaAckTimeoutMs: 200,
      ...options,
    });
  };

  test("'auto' waits for the replica: a write it acknowledges is done, one it cannot is not", async () => {
    const s = store();
    await expect(s.compareAndSet(user, null, record)).resolves.toBe(true);
    replica.pause();
    const second = { ...record, version: 2, ciphertext: 'v1.second' };
    const error = await s.compareAndSet(user, record, second).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotDurableError);
    expect(error).toMatchObject({ acknowledged: 0, required: 1, status: 503 });
    // It is on the primary all the same: a retry finds it there and waits for the replica again.
    expect(await s.get(user)).toEqual(second);
    await expect(s.waitForReplicas(user)).rejects.toBeInstanceOf(NotDurableError);
    replica.resume();
    await expect(s.waitForReplicas(user)).resolves.toBeUndefined();
  });

  test('replicasToAck 0 sends no WAIT: the frozen replica does not matter', async () => {
    const s = store({ replicasToAck: 0 });
    replica.pause();
    await expect(s.compareAndSet(user, null, record)).resolves.toBe(true);
  });

  test('a CAS that does not write waits for nothing', async () => {
    const s = store();
    await s.compareAndSet(user, null, record);
    replica.pause();
    await expect(s.compareAndSet(user, null, record)).resolves.toBe(false);
  });
});

describe('a rotation on a primary whose replica is frozen', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let h: Harness | undefined;

  beforeAll(async () => {
    primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  });
  beforeEach(() => replicaAcking(primary));
  afterEach(async () => {
    replica.resume();
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await replica.stop();
    await primary.stop();
  });

  test('is served from memory and not reported done until the replica acknowledges the result write', async () => {
    h = await createHarness('redis', { replicaAckTimeoutMs: 100 }, { redisUrl: primary.url });
    const { access_token: old } = await h.consent();
    h.expire();
    // The lease is acknowledged; the replica freezes while the token request is in flight.
    const held = holdNextAnswer(h.probe);
    const first = h.manager.getAccessToken(h.user);
    await held.arrived;
    replica.pause();
    held.release();
    const { accessToken: fresh } = await first;
    expect(fresh).not.toBe(old);
    expect(h.logger.events('settle_write_retrying')).toMatchObject([{ obj: { reason: 'not_durable' } }]);
    // Not done: no rotation counted, no notice, and the pair is served from memory.
    expect(h.manager.stats().rotationOutcomes.rotated).toBe(0);
    expect((await h.manager.getAccessToken(h.user)).accessToken).toBe(fresh);
    expect(h.logger.events('settle_write_landed')).toEqual([]);

    replica.resume();
    await h.logger.waitForEvent('settle_write_landed');
    expect(h.manager.stats().rotationOutcomes).toMatchObject({ rotated: 1, lost_cas: 0 });
    expect(await h.manager.status(h.user)).toMatchObject({ state: 'active' });
    expect((await h.sibling().getAccessToken(h.user)).accessToken).toBe(fresh);
    expect(h.server.sim.stats()).toMatchObject({
      tokenRequests: 1,
      rotations: 1,
      leewayReuses: 0,
      revocations: 0,
    });
  });

  test('an unacknowledged lease is not held: no token request, a 503, the record put back', async () => {
    h = await createHarness('redis', { replicaAckTimeoutMs: 100 }, { redisUrl: primary.url });
    await h.consent();
    h.expire();
    replica.pause();
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(NotDurableError);
    expect(h.logger.events('lease_not_durable')).toHaveLength(1);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 0, rotations: 0 });
    replica.resume();
    await replicaAcking(primary);
    // Put back as it was read (not left `rotating`): the next request rotates at once.
    expect(await h.manager.status(h.user)).toMatchObject({ state: 'active' });
    await h.manager.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0 });
  });
});
