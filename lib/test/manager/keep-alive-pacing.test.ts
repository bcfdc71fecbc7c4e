// The keep-alive rate limit, on a fake clock: rotations start at most keepAliveRatePerSecond a
// second, whatever the batch size, and a closing manager stops a sweep between two rotations.
// And the sweeper's timer: every interval plus its jitter, until closed.

import { KeepAliveSweeper, type KeepAliveSettings } from '../../src/manager/keep-alive';
import { InProcessRefreshLock } from '../../src/lock/in-process-refresh-lock';
import { silentLogger } from '../../src/logger';
import { MemoryTokenStore } from '../../src/store/memory-token-store';
import { type PacerClock, RatePacer } from '../../src/manager/rate-pacer';
import { TokenStats } from '../../src/metrics/token-stats';
import type { TokenRecord, UserRef } from '../../src/types';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);

/** A clock whose sleeps advance it instead of waiting, recording each one. */
function fakeClock(): PacerClock & { t: number; sleeps: number[] } {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

function idleRecord(lastRotatedAt: number): TokenRecord {
  return {
    generation: 'g-1',
    version: 1,
    state: 'active',
    expiresAt: lastRotatedAt + 3_600_000,
    lastRotatedAt,
    familyStartedAt: lastRotatedAt,
    ciphertext: 'opaque',
  };
}

describe('RatePacer', () => {
  test('spaces starts 1000 / rate ms apart, the first at once', async () => {
    const clock = fakeClock();
    const pacer = new RatePacer(4, clock);
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await pacer.next();
      starts.push(clock.now());
    }
    expect(starts).toEqual([0, 250, 500, 750, 1000, 1250]);
  });

  test('work slower than the spacing is not followed by a catch-up burst', async () => {
    const clock = fakeClock();
    const pacer = new RatePacer(2, clock);
    await pacer.next();
    clock.t += 5_000; // a slow rotation
    await pacer.next();
    expect(clock.sleeps).toEqual([]);
    await pacer.next();
    expect(clock.sleeps).toEqual([500]);
  });

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %p', (rate) => {
    expect(() => new RatePacer(rate, fakeClock())).toThrow(TypeError);
  });
});

describe('KeepAliveSweeper pacing', () => {
  const setup = async (count: number, settings: Partial<KeepAliveSettings> = {}, random?: () => number) => {
    const store = new MemoryTokenStore();
    const users: UserRef[] = Array.from({ length: count }, (_, i) => ({
      clientKey: 'tenant-pacing',
      accountId: `user-${i}`,
    }));
    for (const [i, user] of users.entries())
      await store.compareAndSet(user, null, idleRecord(NOW - 40 * DAY + i));
    const clock = fakeClock();
    const started: Array<{ user: string; at: number }> = [];
    const stats = new TokenStats();
    const sweeper = new KeepAliveSweeper({
      store,
      lock: new InProcessRefreshLock(),
      // A rotation: the record's lastRotatedAt becomes now, so it leaves the idle index.
      rotate: async (user) => {
        started.push({ user: user.accountId, at: clock.now() });
        const current = (await store.get(user))!;
        await store.compareAndSet(user, current, {
          ...current,
          version: current.version + 1,
          lastRotatedAt: NOW,
        });
        return 'rotated';
      },
      stats,
      logger: silentLogger,
      now: () => NOW,
      pacer: clock,
      settings: { afterMs: 30 * DAY, intervalMs: 0, ratePerSecond: 4, batchSize: 3, ...settings },
      random,
    });
    return { sweeper, clock, started, stats, users };
  };

  test('a sweep of 10 idle users at 4 per second starts one rotation every 250 ms, oldest first', async () => {
    const { sweeper, clock, started, stats, users } = await setup(10);
    expect(await sweeper.sweep()).toEqual({ swept: true, rotated: 10, failed: 0, skipped: 0 });
    expect(started.map((s) => s.user)).toEqual(users.map((u) => u.accountId));
    expect(started.map((s) => s.at)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250]);
    // No window of one second holds more than 4 starts.
    for (const s of started)
      expect(started.filter((o) => o.at >= s.at && o.at < s.at + 1000).length).toBeLessThanOrEqual(4);
    expect(clock.sleeps).toEqual(Array(9).fill(250));
    expect(stats.keepAliveRotations).toBe(10);
  });

  test('closing stops a sweep between two rotations', async () => {
    const { sweeper, clock, started } = await setup(10);
    const pacerSleep = clock.sleep;
    let sleeps = 0;
    clock.sleep = async (ms) => {
      // Close while the sweep waits for its third slot.
      if (++sleeps === 2) void sweeper.close();
      await pacerSleep(ms);
    };
    const sweep = await sweeper.sweep();
    expect(sweep.rotated).toBe(2);
    expect(started).toHaveLength(2);
    expect(await sweeper.sweep()).toEqual({ swept: false, rotated: 0, failed: 0, skipped: 0 });
  });

  describe('the timer', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    it('sweeps after the interval plus its jitter, again after the next one, and never after close', async () => {
      jest.useFakeTimers();
      const { sweeper, started } = await setup(1, { intervalMs: 10_000 }, () => 0.5);
      sweeper.start();
      // 10 000 ms + 10 % × 0.5 of jitter = 10 500 ms.
      await jest.advanceTimersByTimeAsync(10_499);
      expect(started).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(started).toHaveLength(1);
      expect(jest.getTimerCount()).toBe(1); // the next sweep is scheduled
      await sweeper.close();
      expect(jest.getTimerCount()).toBe(0);
    });

    it.each([
      ['keep-alive is disabled', { afterMs: 0, intervalMs: 10_000 }],
      ['the interval is 0', { intervalMs: 0 }],
    ])('is not started when %s', async (_case, settings) => {
      jest.useFakeTimers();
      const { sweeper } = await setup(1, settings);
      sweeper.start();
      expect(jest.getTimerCount()).toBe(0);
      await sweeper.close();
    });
  });
});
