// A primary found through Redis Sentinel (a primary, a replica and a sentinel of the test's own):
// the factory builds its client from { sentinels, name } and rotates against the simulator.

import Redis from 'ioredis';
import { fingerprint } from '../../src';
import { createHarness } from '../../../test/support/manager-harness';
import { type RedisSentinelGroup, startRedisSentinel } from '../../../support/redis-sentinel';

let group: RedisSentinelGroup;
beforeAll(async () => {
  group = await startRedisSentinel({ replicas: 1, sentinels: 1 });
}, 60_000);
afterAll(async () => group.close());

test('the factory builds its client from { sentinels, name }: a rotation, stored on the primary', async () => {
  const h = await createHarness('redis', { redis: { sentinels: group.sentinels, name: group.name } });
  const primary = new Redis(group.nodes[0].url, { maxRetriesPerRequest: 1 });
  try {
    await h.consent();
    h.expire();
    const token = await h.manager.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1, revocations: 0 });
    // The records are on the primary the sentinel named, not on the shared Redis.
    expect(await primary.keys(`${h.keyPrefix}*`)).not.toEqual([]);
    expect(await h.redis!.keys(`${h.keyPrefix}*`)).toEqual([]);
    const again = await h.sibling().getAccessToken(h.user);
    expect(fingerprint(again.accessToken)).toBe(fingerprint(token.accessToken));
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1 });
  } finally {
    primary.disconnect();
    await h.close();
  }
}, 30_000);
