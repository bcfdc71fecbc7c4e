// A lease write that fails in the client but landed in the store (a command that timed out in a
// failover, say): no token request is made under it, and it is put back at once, so the next
// request rotates instead of waiting for a lease nobody holds to run out (a Cluster failover's
// slowest users waited out that 6 s lease). The memory store here applies the write, then throws.

import { MemoryTokenStore } from '../../src';
import { StoreUnavailableError } from '../../src/errors';
import type { RecordVersion, TokenRecord, UserRef } from '../../src/types';
import {
  type Harness,
  SHORT_BUDGETS,
  createHarness,
  leakedSecrets,
} from '../../../test/support/manager-harness';

/** Applies the next lease write (a `rotating` record), then reports it failed. */
class LeaseLandsUnseenStore extends MemoryTokenStore {
  armed = false;

  override async compareAndSet(
    user: UserRef,
    expected: RecordVersion | null,
    record: TokenRecord,
  ): Promise<boolean> {
    const written = await super.compareAndSet(user, expected, record);
    if (this.armed && record.state === 'rotating') {
      this.armed = false;
      throw new Error('Command timed out');
    }
    return written;
  }
}

describe('a lease write whose outcome the holder never saw', () => {
  let h: Harness;
  let store: LeaseLandsUnseenStore;

  beforeEach(async () => {
    store = new LeaseLandsUnseenStore();
    // The simulator's clock does not move here: a lease left behind would never run out, and the
    // next request would spend its whole (short) wait budget behind it.
    h = await createHarness('memory', { store, ...SHORT_BUDGETS });
  });

  afterEach(async () => {
    expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
    await h.close();
  });

  test('is put back with no token request, and the next request rotates at once', async () => {
    await h.consent();
    h.expire();
    store.armed = true;

    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(h.probe.tokenRequests).toBe(0);
    expect(h.logger.events('lease_write_failed')).toHaveLength(1);
    // The lease landed, and was released: the record is active again, at a later version.
    expect((await h.manager.status(h.user))?.state).toBe('active');

    const token = await h.manager.getAccessToken(h.user);
    expect(h.probe.secrets.has(token.accessToken)).toBe(true);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0 });
    expect(h.logger.events('lease_held_elsewhere')).toHaveLength(0);
  });
});
