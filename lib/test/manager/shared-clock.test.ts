// SharedClock: a process's clock corrected by its measured offset to the store's clock, so the
// deadlines processes share come from one clock; one clock_skew warning when the offset is large.

import { SharedClock } from '../../src/manager/shared-clock';
import { captureLogger } from '../../../support/capture-logger';

const REDIS_NOW = 1_700_000_000_000;

describe('SharedClock', () => {
  afterEach(() => jest.useRealTimers());

  it.each([
    ['+2 min', 120_000],
    ['−2 min', -120_000],
    ['+20 s', 20_000],
    ['−20 s', -20_000],
  ])('a process %s off reads the store clock once measured', async (_label, skew) => {
    let redis = REDIS_NOW;
    const local = (): number => redis + skew;
    const logger = captureLogger();
    const clock = new SharedClock({
      local,
      source: async () => redis,
      intervalMs: 60_000,
      skewWarningMs: 2_000,
      logger,
    });
    expect(clock.now()).toBe(REDIS_NOW + skew); // nothing measured yet: the local clock
    clock.start();
    await clock.ready();
    // Within the round trip's few milliseconds of real time.
    expect(Math.abs(clock.offsetMs + skew)).toBeLessThan(50);
    redis += 5_000;
    expect(Math.abs(clock.now() - redis)).toBeLessThan(50);
    expect(logger.events('clock_skew')).toHaveLength(1);
    expect(logger.events('clock_skew')[0]).toMatchObject({ level: 'warn' });
    clock.close();
  });

  it('warns once however often it measures, and not at all within clockSkewWarningMs', async () => {
    jest.useFakeTimers();
    const logger = captureLogger();
    let skew = 1_900;
    const clock = new SharedClock({
      local: () => REDIS_NOW + skew,
      source: async () => REDIS_NOW,
      intervalMs: 1_000,
      skewWarningMs: 2_000,
      logger,
      // The round trip takes no time, so the offsets are exact (fake timers do not stop perf_hooks).
      monotonic: () => 0,
    });
    clock.start();
    await clock.ready();
    expect(clock.offsetMs).toBe(-1_900);
    expect(logger.events('clock_skew')).toHaveLength(0);
    skew = 5_000;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(clock.offsetMs).toBe(-5_000);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(logger.events('clock_skew')).toHaveLength(1);
    expect(logger.events('clock_skew')[0].obj).toMatchObject({ offsetMs: -5_000, warningMs: 2_000 });
    clock.close();
  });

  it('keeps the last offset when a measurement fails', async () => {
    jest.useFakeTimers();
    let down = false;
    const clock = new SharedClock({
      local: () => REDIS_NOW - 30_000,
      source: async () => {
        if (down) throw new Error('Redis is down');
        return REDIS_NOW;
      },
      intervalMs: 1_000,
      skewWarningMs: 2_000,
      logger: captureLogger(),
      monotonic: () => 0,
    });
    clock.start();
    await clock.ready();
    expect(clock.offsetMs).toBe(30_000);
    down = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(clock.offsetMs).toBe(30_000);
    clock.close();
  });

  it('measures nothing without a source or with interval 0: the local clock as it is', async () => {
    const source = jest.fn(async () => REDIS_NOW);
    for (const clock of [
      new SharedClock({ local: () => 42, intervalMs: 60_000, skewWarningMs: 2_000, logger: captureLogger() }),
      new SharedClock({
        local: () => 42,
        source,
        intervalMs: 0,
        skewWarningMs: 2_000,
        logger: captureLogger(),
      }),
    ]) {
      clock.start();
      await clock.ready();
      expect(clock.now()).toBe(42);
      clock.close();
    }
    expect(source).not.toHaveBeenCalled();
  });
});
