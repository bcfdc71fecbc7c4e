// Invariant 13 through the manager: a settle write that fails after the server rotated. The
// store here is the memory store with switchable failures, so each case is exact and quick; the
// Redis blip itself is test/faults/redis-blip.test.ts.

import { MemoryTokenStore } from '../../src';
import { LockUnavailableError, StoreUnavailableError } from '../../src/errors';
import type { RecordVersion, TokenRecord, UserRef } from '../../src/types';
import { holdNextAnswer } from '../../../support/fetch-probe';
import {
  HOUR,
  type Harness,
  SHORT_BUDGETS,
  createHarness,
  leakedSecrets,
} from '../../../test/support/manager-harness';

/** A memory store whose writes, and optionally reads, fail while `failing` (or `failWrite`) says so. */
class FailingStore extends MemoryTokenStore {
  failing: { writes: boolean; reads: boolean } = { writes: false, reads: false };
  /** Fails only the writes of records it matches. */
  failWrite?: (record: TokenRecord) => boolean;

  override async get(user: UserRef): Promise<TokenRecord | null> {
    if (this.failing.reads) throw new Error('connection reset');
    return super.get(user);
  }

  override async compareAndSet(
    user: UserRef,
    expected: RecordVersion | null,
    record: TokenRecord,
  ): Promise<boolean> {
    if (this.failing.writes || this.failWrite?.(record)) throw new Error('connection reset');
    return super.compareAndSet(user, expected, record);
  }
}

describe('a settle write that fails after the server rotated (memory store)', () => {
  let h: Harness;
  let store: FailingStore;

  beforeEach(async () => {
    store = new FailingStore();
    // A short wait budget, so a waiter the kept pair failed to reach would give up.
    h = await createHarness('memory', { store, ...SHORT_BUDGETS });
  });

  afterEach(async () => {
    store.failing = { writes: false, reads: false };
    expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
    await h.close();
  });

  /** Consents, expires the token, and fails the store right after the server rotated. */
  const rotateIntoFailure = async (failing: FailingStore['failing']): Promise<string> => {
    const { access_token: old } = await h.consent();
    h.expire();
    h.probe.interceptNext(async (send) => {
      const response = await send();
      store.failing = failing;
      return response;
    });
    return old;
  };

  test('50 calls get the new token from memory; later loads too, without reading the store', async () => {
    await rotateIntoFailure({ writes: true, reads: true });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user)));
    const fresh = tokens[0].accessToken;
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set([fresh]));
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1 });

    // Jira refused the new token: nothing else is known here, and the store cannot be read.
    await expect(h.manager.getAccessToken(h.user, { rejected: fresh })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    // The next load (the cache was dropped) is served from memory, before any read.
    const reads = h.manager.stats().storeReads;
    expect((await h.manager.getAccessToken(h.user)).accessToken).toBe(fresh);
    expect(h.manager.stats().storeReads).toBe(reads);

    store.failing = { writes: false, reads: false };
    await h.logger.waitForEvent('settle_write_landed');
    expect(await h.manager.status(h.user)).toMatchObject({ state: 'active' });
    expect((await h.sibling().getAccessToken(h.user)).accessToken).toBe(fresh);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0 });
    expect(h.manager.stats().rotationOutcomes).toMatchObject({ rotated: 1, lost_cas: 0 });
  });

  test("a request waiting behind its own process's background rotation wakes as soon as the pair is kept", async () => {
    await h.close();
    h = await createHarness('memory', { store, noticeTimeoutMs: 10_000, waitTimeoutMs: 40_000 });
    const { access_token: old } = await h.consent();
    // Inside the refresh-ahead window: a request gets the old token and starts a background rotation.
    h.server.sim.clock.advance(HOUR - 240_000);
    const answer = holdNextAnswer(h.probe);
    expect((await h.manager.getAccessToken(h.user)).accessToken).toBe(old);
    await answer.arrived;
    // Jira refused the old token: this request waits behind the background rotation's lease.
    let served: string | undefined;
    const waiter = h.manager.getAccessToken(h.user, { rejected: old }).then((t) => (served = t.accessToken));
    // Failing assertions below must not leave it rejecting unhandled.
    waiter.catch(() => undefined);
    await h.logger.waitForEvent('lease_held_elsewhere');

    store.failing = { writes: true, reads: false };
    answer.release();
    await h.logger.waitForEvent('settle_write_retrying');
    // No notice can be published, and the notice timeout is 10 s off: only the kept pair wakes it.
    await new Promise(setImmediate);
    await new Promise(setImmediate);
    expect(served).toBeDefined();
    expect(served).not.toBe(old);
    await waiter;

    store.failing = { writes: false, reads: false };
    await h.logger.waitForEvent('settle_write_landed');
    expect((await h.sibling().getAccessToken(h.user)).accessToken).toBe(served);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0 });
  });

  test('past the lease, this process never rotates from the stored token while it holds the new pair', async () => {
    await rotateIntoFailure({ writes: true, reads: false });
    const { accessToken: fresh } = await h.manager.getAccessToken(h.user);
    // The store reads the lease, run out: elsewhere that is a dead holder to take over. Here the
    // holder is alive and holds the server's current pair, so a takeover would spend the leeway.
    h.server.sim.clock.advance(25_001);
    await expect(h.manager.getAccessToken(h.user, { rejected: fresh })).rejects.toBeInstanceOf(
      LockUnavailableError,
    );
    await h.manager.recoverInDoubt();
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, leewayReuses: 0 });
    expect(h.logger.events('settle_write_past_lease')).toHaveLength(1);

    store.failing = { writes: false, reads: false };
    await h.logger.waitForEvent('settle_write_landed');
    expect(await h.manager.status(h.user)).toMatchObject({ state: 'active' });
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0 });
  });

  test('a takeover that won the record first makes the kept pair lose: it is never written over it', async () => {
    await rotateIntoFailure({ writes: true, reads: false });
    const { accessToken: kept } = await h.manager.getAccessToken(h.user);
    const rotating = (await store.get(h.user))!;
    // From here only the kept pair's write fails: another process can take over past the lease,
    // with the previous refresh token inside the leeway, and store what it gets.
    store.failing = { writes: false, reads: false };
    store.failWrite = (record) => record.state === 'active' && record.version === rotating.version + 1;
    h.server.sim.clock.advance(25_001);
    const other = h.sibling();
    const { accessToken: theirs } = await other.getAccessToken(h.user);
    expect(theirs).not.toBe(kept);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 2, leewayReuses: 1, revocations: 0 });

    store.failWrite = undefined;
    await h.logger.waitForEvent('lost_cas');
    await h.manager.whenIdle();
    expect(h.logger.events('settle_write_landed')).toHaveLength(0);
    expect(h.manager.stats().rotationOutcomes).toMatchObject({ rotated: 0, lost_cas: 1 });
    expect((await h.sibling().getAccessToken(h.user)).accessToken).toBe(theirs);
    // The stored chain is the server's: an hour later it rotates with no revocation.
    h.expire();
    await other.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 3, leewayReuses: 1, revocations: 0 });
  });
});
