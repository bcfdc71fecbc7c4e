// A rotated pair whose settle write failed (invariant 13): kept, served from memory, written again
// with backoff by the same compare-and-set until it lands or another writer wins. The retry loop
// runs on an injected sleep, so each retry happens when the test says so.

import { NotDurableError, StoreUnavailableError } from '../../src/errors';
import { TokenStats } from '../../src/metrics/token-stats';
import { PendingSettlements, type Settlement } from '../../src/protocol/pending-settlements';
import type { WriteOutcome } from '../../src/protocol/record-access';
import type { TokenRecord } from '../../src/types';
import { captureLogger } from '../../../support/capture-logger';

const NOW = 1_700_000_000_000;
const user = { clientKey: 'tenant', accountId: 'alice' };
const unconfirmed: Extract<WriteOutcome, { kind: 'unconfirmed' }> = {
  kind: 'unconfirmed',
  reason: 'store_unavailable',
  error: new StoreUnavailableError('The Jira token store (Redis) failed: Connection is closed.', 5),
};

const rotating: TokenRecord = {
  generation: 'g1',
  version: 4,
  state: 'rotating',
  lease: { fence: 'f', startedAt: NOW, until: NOW + 6_000 },
  expiresAt: NOW - 1,
  lastRotatedAt: NOW - 3_600_000,
  familyStartedAt: NOW - 86_400_000,
  ciphertext: 'v1.old',
};
const updated: TokenRecord = {
  ...rotating,
  version: 5,
  state: 'active',
  lease: undefined,
  expiresAt: NOW + 3_600_000,
  lastRotatedAt: NOW,
  ciphertext: 'v1.new',
};

function setup(
  writes: Array<WriteOutcome | Error>,
  stored: TokenRecord | null = null,
  confirms: WriteOutcome[] = [],
) {
  const logger = captureLogger();
  const stats = new TokenStats();
  const sleeps: Array<{ ms: number; wake(): void }> = [];
  let now = NOW;
  let random = 0.5;
  const records = {
    tryWrite: jest.fn(async () => {
      const next = writes.shift() ?? unconfirmed;
      if (next instanceof Error) throw next;
      return next;
    }),
    get: jest.fn(async () => stored),
    confirm: jest.fn(async () => confirms.shift() ?? ({ kind: 'written' } as const)),
  };
  const pending = new PendingSettlements({
    records,
    logger,
    stats,
    now: () => now,
    random: () => random,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const abort = (): void => reject(signal.reason);
        signal.addEventListener('abort', abort, { once: true });
        sleeps.push({
          ms,
          wake: () => {
            signal.removeEventListener('abort', abort);
            resolve();
          },
        });
      }),
  });
  const landed = jest.fn(async () => undefined);
  const lost = jest.fn();
  const settlement: Settlement = { user, expected: rotating, updated, accessToken: 'at-new', landed, lost };
  /** Ends the retry loop's current wait and lets its write run. */
  const retry = async (): Promise<number> => {
    await flush();
    const sleep = sleeps.shift();
    if (!sleep) throw new Error('no retry is waiting');
    sleep.wake();
    await flush();
    return sleep.ms;
  };
  return {
    logger,
    stats,
    records,
    pending,
    settlement,
    landed,
    lost,
    retry,
    sleeps,
    setNow: (at: number) => (now = at),
    setStored: (record: TokenRecord | null) => (stored = record),
    setRandom: (r: number) => (random = r),
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PendingSettlements', () => {
  test('serves the pair from memory until a retry lands, then publishes once and forgets it', async () => {
    const t = setup([unconfirmed, unconfirmed, { kind: 'written' }]);
    t.pending.keep(t.settlement, unconfirmed);
    expect(t.pending.holds(user)).toBe(true);
    expect(t.pending.tokenFor(user)).toEqual({
      accessToken: 'at-new',
      expiresAt: updated.expiresAt,
      cloudId: undefined,
      lastRotatedAt: NOW,
    });
    await t.retry();
    await t.retry();
    expect(t.landed).not.toHaveBeenCalled();
    await t.retry();
    expect(t.landed).toHaveBeenCalledTimes(1);
    expect(t.lost).not.toHaveBeenCalled();
    expect(t.records.tryWrite.mock.calls).toEqual([
      [user, rotating, updated],
      [user, rotating, updated],
      [user, rotating, updated],
    ]);
    expect(t.pending.holds(user)).toBe(false);
    expect(t.pending.tokenFor(user)).toBeUndefined();
    expect(t.stats.settleWriteRetries).toBe(3);
    expect(t.logger.events('settle_write_retrying')).toHaveLength(1);
    expect(t.logger.events('settle_write_retrying')[0]).toMatchObject({
      level: 'warn',
      obj: { reason: 'store_unavailable', clientKey: 'tenant', accountId: 'alice' },
    });
    expect(t.logger.events('settle_write_landed')).toMatchObject([{ level: 'info', obj: { attempts: 3 } }]);
    expect(t.logger.text()).not.toContain('at-new');
    await Promise.all(t.pending.pending());
  });

  test('backs off from 50 ms doubling to 1 s, each wait drawn from the upper half of its step', async () => {
    const t = setup([]);
    t.setRandom(0);
    t.pending.keep(t.settlement, unconfirmed);
    const low: number[] = [];
    for (let i = 0; i < 6; i++) low.push(await t.retry());
    expect(low).toEqual([25, 50, 100, 200, 400, 500]);
    // Each wait is drawn when the previous write failed: the 7th was drawn already.
    t.setRandom(0.999_999);
    const high: number[] = [];
    for (let i = 0; i < 3; i++) high.push(await t.retry());
    expect(high).toEqual([500, 1_000, 1_000]);
    await t.pending.close();
  });

  test('a lost compare-and-set means another writer won: the pair is dropped, never written over it', async () => {
    const newer = { ...updated, version: 6, ciphertext: 'v1.theirs' };
    const t = setup([unconfirmed, { kind: 'lost' }], newer);
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    await t.retry();
    expect(t.lost).toHaveBeenCalledTimes(1);
    expect(t.landed).not.toHaveBeenCalled();
    expect(t.pending.holds(user)).toBe(false);
    expect(t.logger.events('settle_write_landed')).toHaveLength(0);
    expect(t.sleeps).toHaveLength(0);
  });

  test('a lost compare-and-set against our own earlier write (its reply was lost) counts as landed', async () => {
    const t = setup([{ kind: 'lost' }], { ...updated });
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    expect(t.landed).toHaveBeenCalledTimes(1);
    expect(t.lost).not.toHaveBeenCalled();
  });

  test('a lost compare-and-set whose re-read fails is retried, not judged', async () => {
    const t = setup([{ kind: 'lost' }, { kind: 'lost' }], { ...updated });
    t.records.get.mockRejectedValueOnce(new StoreUnavailableError('down', 5));
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    expect(t.landed).not.toHaveBeenCalled();
    expect(t.lost).not.toHaveBeenCalled();
    await t.retry();
    expect(t.landed).toHaveBeenCalledTimes(1);
  });

  test('past the lease it keeps writing (the CAS still guards it) and says so once', async () => {
    const t = setup([unconfirmed, unconfirmed, unconfirmed, { kind: 'written' }]);
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    expect(t.logger.events('settle_write_past_lease')).toHaveLength(0);
    t.setNow(rotating.lease!.until);
    await t.retry();
    await t.retry();
    expect(t.logger.events('settle_write_past_lease')).toMatchObject([
      { level: 'warn', obj: { attempts: 2 } },
    ]);
    await t.retry();
    expect(t.landed).toHaveBeenCalledTimes(1);
  });

  test('never serves the rejected token or an expired one', () => {
    const t = setup([]);
    t.pending.keep(t.settlement, unconfirmed);
    expect(t.pending.tokenFor(user, 'at-new')).toBeUndefined();
    expect(t.pending.tokenFor(user, 'at-other')?.accessToken).toBe('at-new');
    expect(t.pending.tokenFor({ ...user, accountId: 'bob' })).toBeUndefined();
    t.setNow(updated.expiresAt);
    expect(t.pending.tokenFor(user)).toBeUndefined();
    return t.pending.close();
  });

  test('close() gives up: one error, neither landed nor lost, nothing held', async () => {
    const t = setup([]);
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    await t.pending.close();
    expect(t.logger.events('settle_write_abandoned')).toMatchObject([
      { level: 'error', obj: { attempts: 1, err: 'closed' } },
    ]);
    expect(t.landed).not.toHaveBeenCalled();
    expect(t.lost).not.toHaveBeenCalled();
    expect(t.pending.holds(user)).toBe(false);
  });

  test('an error that is not the store failing ends the retries, logged at error', async () => {
    const t = setup([new TypeError('a bug')]);
    t.pending.keep(t.settlement, unconfirmed);
    await t.retry();
    expect(t.logger.events('settle_write_abandoned')).toMatchObject([
      { level: 'error', obj: { attempts: 1, err: 'TypeError: a bug' } },
    ]);
    expect(t.pending.holds(user)).toBe(false);
  });

  describe('a write the replicas did not acknowledge (invariant 15)', () => {
    const notDurable: Extract<WriteOutcome, { kind: 'unconfirmed' }> = {
      kind: 'unconfirmed',
      reason: 'not_durable',
      error: new NotDurableError(0, 1),
    };

    test('is not done while our write sits on the primary unacknowledged; done once WAIT confirms it', async () => {
      const lost = { kind: 'lost' } as const;
      const t = setup([lost, lost], updated, [notDurable, { kind: 'written' }]);
      t.pending.keep(t.settlement, notDurable);
      expect(t.logger.events('settle_write_retrying')).toMatchObject([
        { level: 'warn', obj: { reason: 'not_durable' } },
      ]);
      await t.retry();
      expect(t.records.confirm).toHaveBeenCalledTimes(1);
      expect(t.landed).not.toHaveBeenCalled();
      expect(t.pending.tokenFor(user)?.accessToken).toBe('at-new');
      await t.retry();
      expect(t.records.confirm).toHaveBeenCalledTimes(2);
      expect(t.landed).toHaveBeenCalledTimes(1);
      expect(t.lost).not.toHaveBeenCalled();
      expect(t.pending.holds(user)).toBe(false);
    });

    test('a failover back to the lease: the pair is written again by the same compare-and-set', async () => {
      const t = setup([{ kind: 'written' }], rotating);
      t.pending.keep(t.settlement, notDurable);
      await t.retry();
      expect(t.records.tryWrite.mock.calls).toEqual([[user, rotating, updated]]);
      expect(t.records.confirm).not.toHaveBeenCalled();
      expect(t.landed).toHaveBeenCalledTimes(1);
    });

    test('a failover back to an earlier renewal of our lease: written again on that version', async () => {
      const renewedBefore: TokenRecord = { ...rotating, version: 3 };
      const t = setup([{ kind: 'lost' }, { kind: 'written' }], renewedBefore);
      t.pending.keep(t.settlement, notDurable);
      await t.retry();
      expect(t.landed).not.toHaveBeenCalled();
      expect(t.lost).not.toHaveBeenCalled();
      expect(t.pending.tokenFor(user)?.accessToken).toBe('at-new');
      await t.retry();
      expect(t.records.tryWrite.mock.calls[1]).toEqual([user, renewedBefore, { ...updated, version: 4 }]);
      expect(t.landed).toHaveBeenCalledTimes(1);
      expect(t.lost).not.toHaveBeenCalled();
    });

    test('a record of another lease is not ours to write', async () => {
      const other: TokenRecord = { ...rotating, version: 3, lease: { ...rotating.lease!, fence: 'other' } };
      const t = setup([{ kind: 'lost' }], other);
      t.pending.keep(t.settlement, notDurable);
      await t.retry();
      expect(t.lost).toHaveBeenCalledTimes(1);
      expect(t.landed).not.toHaveBeenCalled();
      expect(t.pending.holds(user)).toBe(false);
    });
  });
});
