// Chaos rates and latency: seeded, so the same seed gives the same outcomes, and validated on the way in.

import { createSimulator } from '../../sim';
import { ChaosController } from '../../sim/chaos';
import { mulberry32 } from '../../sim/prng';
import { consentWithRefreshToken, refresh } from './helpers';

async function statuses(seed: number, count: number): Promise<number[]> {
  const sim = createSimulator({ seed });
  sim.setChaos({ serverErrorRate: 0.5 });
  let rt = consentWithRefreshToken(sim).refresh_token;
  const seen: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await refresh(sim.app, rt);
    seen.push(res.status);
    if (res.status === 200) rt = res.body.refresh_token;
  }
  expect(sim.stats()).toMatchObject({
    rotations: seen.filter((s) => s === 200).length,
    chaos: { serverErrors: seen.filter((s) => s === 500).length },
    revocations: 0,
  });
  return seen;
}

describe('chaos rates', () => {
  it('draws outcomes from the seeded PRNG, one draw per refresh', async () => {
    const draws = mulberry32(7);
    const expected = Array.from({ length: 20 }, () => (draws() < 0.5 ? 500 : 200));
    expect(expected).toContain(500);
    expect(expected).toContain(200);
    expect(await statuses(7, 20)).toEqual(expected);
    expect(await statuses(7, 20)).toEqual(expected);
  });

  it('gives a different sequence for a different seed', async () => {
    expect(await statuses(1, 20)).not.toEqual(await statuses(2, 20));
  });

  it('missingRefreshTokenRate 1 drops every refresh_token while rotating', async () => {
    const sim = createSimulator();
    sim.setChaos({ missingRefreshTokenRate: 1 });
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const res = await refresh(sim.app, rt0).expect(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { missingRefreshTokens: 1 } });
  });

  it('delays answers by latencyMs of real time, without moving the sim clock', async () => {
    const sim = createSimulator({ startTime: 1_000 });
    sim.setChaos({ latencyMs: 100 });
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const started = performance.now();
    await refresh(sim.app, rt0).expect(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(sim.clock.now()).toBe(1_000);
  });
});

describe('ChaosController', () => {
  it.each([
    ['serverErrorRate', 'server_error'],
    ['timeoutRate', 'hang_after_commit'],
    ['dropAfterCommitRate', 'drop_after_commit'],
    ['missingRefreshTokenRate', 'missing_refresh_token'],
  ] as const)('maps %s to %s', (rate, outcome) => {
    const chaos = new ChaosController(1);
    chaos.update({ [rate]: 1 });
    expect(chaos.nextOutcome()).toBe(outcome);
  });

  it('adds seeded jitter in [latency, latency + jitter)', () => {
    const a = new ChaosController(3);
    const b = new ChaosController(3);
    a.update({ latencyMs: 10, jitterMs: 50 });
    b.update({ latencyMs: 10, jitterMs: 50 });
    const delays = Array.from({ length: 50 }, () => a.delayMs());
    expect(Array.from({ length: 50 }, () => b.delayMs())).toEqual(delays);
    expect(delays.every((d) => Number.isInteger(d) && d >= 10 && d < 60)).toBe(true);
    const draws = mulberry32(3);
    expect(delays[0]).toBe(10 + Math.floor(draws() * 50));
  });

  it('merges partial settings', () => {
    const sim = createSimulator();
    sim.setChaos({ latencyMs: 5 });
    sim.setChaos({ timeoutRate: 0.25 });
    expect(sim.chaos()).toEqual({
      latencyMs: 5,
      jitterMs: 0,
      serverErrorRate: 0,
      timeoutRate: 0.25,
      dropAfterCommitRate: 0,
      missingRefreshTokenRate: 0,
    });
  });

  it.each([
    [{ serverErrorRate: 1.5 }, 'serverErrorRate must be at most 1'],
    [{ latencyMs: -1 }, 'latencyMs must be a finite, non-negative number'],
    [{ jitterMs: Number.NaN }, 'jitterMs must be a finite, non-negative number'],
    [{ bogus: 1 }, 'Unknown chaos setting: bogus'],
    [{ serverErrorRate: 0.6, timeoutRate: 0.6 }, 'The chaos rates add up to more than 1'],
  ])('refuses %j', (patch, message) => {
    const sim = createSimulator();
    expect(() => sim.setChaos(patch as never)).toThrow(new RangeError(message));
    expect(sim.chaos().serverErrorRate).toBe(0);
  });

  it('refuses unknown scripted outcomes', () => {
    const sim = createSimulator();
    expect(() => sim.scriptOutcomes(['explode' as never])).toThrow(RangeError);
  });
});
