// Invariant 1 across processes: four app processes, 50 concurrent calls each, one user, one
// shared Redis: exactly one rotation, no revocation, and all 200 calls get the same token.

import { fingerprint } from '../../src';
import { type ForkedChild, forkChild } from '../../../support/forked-child';
import { HOUR, type Harness, childEnv, createHarness } from '../../../test/support/manager-harness';
import { testChild } from '../../../test/support/test-children';

const CHILD = testChild('manager-child');

type ChildMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'done'; results: Array<{ ok?: string; error?: string }>; stats: { rotations: number } };

function spawnChild(h: Harness): ForkedChild<ChildMessage> {
  return forkChild<ChildMessage>(CHILD, {
    ...childEnv(h),
  });
}

describe('four processes sharing Redis', () => {
  let h: Harness;
  afterEach(async () => h.close());

  test('4 processes × 50 concurrent calls after expiry: one rotation, no revocation, one token', async () => {
    h = await createHarness('redis');
    await h.consent();
    h.server.sim.clock.advance(HOUR + 1);
    const children = Array.from({ length: 4 }, () => spawnChild(h));
    try {
      await Promise.all(children.map((c) => c.next('ready')));
      const simNow = h.server.sim.clock.now();
      for (const { child } of children) child.send({ type: 'go', concurrency: 50, simNow });
      const done = await Promise.all(children.map((c) => c.next('done')));
      const results = done.flatMap((d) => d.results);
      expect(results).toHaveLength(200);
      expect(results.filter((r) => r.error)).toEqual([]);
      expect(new Set(results.map((r) => r.ok)).size).toBe(1);
      expect(h.server.sim.stats()).toMatchObject({
        rotations: 1,
        leewayReuses: 0,
        revocations: 0,
        tokenRequests: 1,
      });
      expect(done.reduce((sum, d) => sum + d.stats.rotations, 0)).toBe(1);
      // The parent, a fifth process, reads the same new token from Redis.
      const parent = await h.manager.getAccessToken(h.user);
      expect(fingerprint(parent.accessToken)).toBe(results[0].ok);
    } finally {
      await Promise.all(children.map((c) => c.kill()));
    }
  });
});
