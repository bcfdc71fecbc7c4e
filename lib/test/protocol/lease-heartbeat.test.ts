// LeaseHeartbeat: the holder's lease is renewed by compare-and-set while its request runs, and a
// renewal that loses (another write won, or Redis failed until the lease ran out) aborts the request.

import { LeaseHeartbeat } from '../../src/protocol/lease-heartbeat';
import type { RecordVersion, TokenRecord, UserRef } from '../../src/types';
import { captureLogger } from '../../../support/capture-logger';

const LEASE_MS = 6_000;
const START = 1_700_000_000_000;
const user: UserRef = { clientKey: 'tenant-1', accountId: 'account-1' };

function leased(): TokenRecord {
  return {
    generation: 'gen-1',
    version: 4,
    state: 'rotating',
    lease: { fence: 'fence-1', startedAt: START, until: START + LEASE_MS },
    expiresAt: START - 1,
    lastRotatedAt: START - 3_600_000,
    familyStartedAt: START - 3_600_000,
    ciphertext: 'v1.opaque',
  };
}

/** A store of one record, written by compare-and-set on its version, as the real ones are. */
function fakeRecords(initial: TokenRecord) {
  let stored = initial;
  let failing = false;
  const writes: TokenRecord[] = [];
  return {
    get stored(): TokenRecord {
      return stored;
    },
    /** Another process writes (a takeover). */
    overwrite(record: TokenRecord): void {
      stored = record;
    },
    fail(on: boolean): void {
      failing = on;
    },
    writes,
    write: async (_user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> => {
      if (failing) throw new Error('Redis is down');
      if (!expected || expected.version !== stored.version || expected.generation !== stored.generation)
        return false;
      stored = record;
      writes.push(record);
      return true;
    },
  };
}

describe('LeaseHeartbeat', () => {
  let clock = START;
  const now = (): number => clock;
  /** Moves the clock and the timers together. */
  const pass = async (ms: number): Promise<void> => {
    clock += ms;
    await jest.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    clock = START;
    jest.useFakeTimers({ now: START });
  });
  afterEach(() => jest.useRealTimers());

  it('renews every third of the lease by compare-and-set: same fence, version bumped, until moved', async () => {
    const records = fakeRecords(leased());
    const logger = captureLogger();
    const lock = new AbortController();
    const heartbeat = new LeaseHeartbeat(
      { records, now, logger, leaseMs: LEASE_MS },
      user,
      leased(),
      lock.signal,
    );
    await pass(1_999);
    expect(records.writes).toHaveLength(0);
    await pass(1);
    await pass(2_000);
    await pass(2_000);
    expect(records.writes.map((r) => [r.version, r.lease])).toEqual([
      [5, { fence: 'fence-1', startedAt: START, until: START + 2_000 + LEASE_MS }],
      [6, { fence: 'fence-1', startedAt: START, until: START + 4_000 + LEASE_MS }],
      [7, { fence: 'fence-1', startedAt: START, until: START + 6_000 + LEASE_MS }],
    ]);
    // The settlement compares against the latest renewed record, not the first leased one.
    const latest = await heartbeat.stop();
    expect(latest).toEqual(records.stored);
    expect(heartbeat.record.version).toBe(7);
    await pass(10_000);
    expect(records.writes).toHaveLength(3);
    expect(heartbeat.signal.aborted).toBe(false);
    expect(logger.events('lease_lost')).toEqual([]);
  });

  it('aborts the request once another write won the record, logs lease_lost once, and stops renewing', async () => {
    const records = fakeRecords(leased());
    const logger = captureLogger();
    const heartbeat = new LeaseHeartbeat(
      { records, now, logger, leaseMs: LEASE_MS },
      user,
      leased(),
      new AbortController().signal,
    );
    records.overwrite({ ...leased(), version: 5, lease: { ...leased().lease!, fence: 'taker' } });
    await pass(2_000);
    expect(heartbeat.signal.aborted).toBe(true);
    expect(logger.events('lease_lost')).toHaveLength(1);
    expect(logger.events('lease_lost')[0].obj).toMatchObject({ reason: 'another write won the record' });
    expect(await heartbeat.confirm()).toBe(false);
    await pass(10_000);
    expect(records.writes).toHaveLength(0);
    expect(logger.events('lease_lost')).toHaveLength(1);
  });

  it('retries a failed renewal while the lease runs, and loses it once the lease ran out', async () => {
    const records = fakeRecords(leased());
    const logger = captureLogger();
    const heartbeat = new LeaseHeartbeat(
      { records, now, logger, leaseMs: LEASE_MS },
      user,
      leased(),
      new AbortController().signal,
    );
    records.fail(true);
    await pass(2_000); // fails, retried every sixth of the lease
    await pass(1_000);
    expect(heartbeat.signal.aborted).toBe(false);
    records.fail(false);
    await pass(1_000); // Redis is back before the lease ran out: renewed
    expect(records.writes).toHaveLength(1);
    expect(heartbeat.signal.aborted).toBe(false);
    records.fail(true);
    await pass(LEASE_MS + 1_000); // failing past the renewed lease's end
    expect(heartbeat.signal.aborted).toBe(true);
    expect(logger.events('lease_lost')[0].obj).toMatchObject({
      reason: 'it ran out before a renewal succeeded',
      err: 'Error: Redis is down',
    });
  });

  it('confirm() renews at once: true while the lease stands, false when Redis cannot confirm it', async () => {
    const records = fakeRecords(leased());
    const heartbeat = new LeaseHeartbeat(
      { records, now, logger: captureLogger(), leaseMs: LEASE_MS },
      user,
      leased(),
      new AbortController().signal,
    );
    expect(await heartbeat.confirm()).toBe(true);
    expect(records.stored.version).toBe(5);
    records.fail(true);
    expect(await heartbeat.confirm()).toBe(false);
    expect(heartbeat.signal.aborted).toBe(false); // unconfirmed, not yet lost
    await heartbeat.stop();
  });

  it("aborts with the lock's signal, and renews no more once it has", async () => {
    const records = fakeRecords(leased());
    const lock = new AbortController();
    const heartbeat = new LeaseHeartbeat(
      { records, now, logger: captureLogger(), leaseMs: LEASE_MS },
      user,
      leased(),
      lock.signal,
    );
    lock.abort(new Error('lock lost'));
    expect(heartbeat.signal.aborted).toBe(true);
    await pass(10_000);
    expect(records.writes).toHaveLength(0);
    expect(await heartbeat.stop()).toEqual(leased());
  });
});
