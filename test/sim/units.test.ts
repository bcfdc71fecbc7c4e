// Unit rules below HTTP: the manual clock, option validation, the PRNG and the family registry's boundaries.

import { createSimulator } from '../../sim';
import { ManualClock } from '../../sim/clock';
import { FamilyRegistry } from '../../sim/families';
import { escapeHtml } from '../../sim/html';
import { mulberry32 } from '../../sim/prng';

describe('ManualClock', () => {
  it('never moves by itself', () => {
    const clock = new ManualClock(42);
    expect(clock.now()).toBe(42);
    expect(clock.now()).toBe(42);
  });

  it('refuses to advance backwards or by a non-finite amount', () => {
    const clock = new ManualClock(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });

  it('starts at Date.now() by default', () => {
    const before = Date.now();
    const now = createSimulator().clock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('options', () => {
  it.each([
    [{ accessTokenTtlSeconds: 0 }],
    [{ leewayMs: -1 }],
    [{ issuesPerSite: 1.5 }],
    [{ accounts: [] }],
    [{ accounts: [{ accountId: 'a', name: 'A', email: 'a@x', siteIds: ['missing'] }] }],
    [
      {
        sites: [{ id: 's', name: 'S', url: 'https://s.atlassian.net/wiki', scopes: [], avatarUrl: '' }],
        accounts: [{ accountId: 'a', name: 'A', email: 'a@x', siteIds: ['s'] }],
      },
    ],
    [{ clientSecret: '' }],
  ])('refuses %j', (options) => {
    expect(() => createSimulator(options)).toThrow(RangeError);
  });

  it('refuses a consent for an unknown account or an empty scope', () => {
    const sim = createSimulator();
    expect(() => sim.consent('nobody')).toThrow(RangeError);
    expect(() => sim.consent('sim-user-1', '  ')).toThrow(RangeError);
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(9);
    const b = mulberry32(9);
    const values = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(values);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

describe('escapeHtml', () => {
  it('escapes every character that can break out of text or a quoted attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
  });
});

describe('FamilyRegistry', () => {
  let n = 0;
  const registry = () =>
    new FamilyRegistry(
      { leewayMs: 100, inactivityMs: 1000, absoluteLifetimeMs: 5000 },
      () => `rt-${(n += 1)}`,
    );

  it('accepts the previous token one millisecond before the leeway ends, not at its end', () => {
    const families = registry();
    const family = families.create('acc', 'offline_access', 0);
    const rt0 = family.current;
    expect(families.refresh(rt0, 0)).toMatchObject({ ok: true, kind: 'rotation' });
    expect(families.refresh(rt0, 99)).toMatchObject({ ok: true, kind: 'leeway_reuse' });
    expect(families.refresh(rt0, 100)).toEqual({ ok: false, reason: 'reuse_detected' });
    expect(families.counts(100)).toEqual({ active: 0, revoked: 1 });
  });

  it('reports why a refresh fails', () => {
    const families = registry();
    expect(families.refresh('nope', 0)).toEqual({ ok: false, reason: 'unknown' });
    const idle = families.create('acc', 'offline_access', 0);
    expect(families.refresh(idle.current, 1001)).toEqual({ ok: false, reason: 'inactive' });
    const old = families.create('acc', 'offline_access', 0);
    let rt = old.current;
    for (const t of [900, 1800, 2700, 3600, 4500]) {
      const result = families.refresh(rt, t);
      if (!result.ok) throw new Error(`refused at ${t}`);
      rt = result.refreshToken;
    }
    expect(families.refresh(rt, 5001)).toEqual({ ok: false, reason: 'expired' });
    const revoked = families.create('acc', 'offline_access', 0);
    const first = revoked.current;
    const second = families.refresh(first, 0);
    if (!second.ok) throw new Error('rotation refused');
    families.refresh(second.refreshToken, 1);
    expect(families.refresh(first, 2)).toEqual({ ok: false, reason: 'reuse_detected' });
    expect(families.refresh(second.refreshToken, 3)).toEqual({ ok: false, reason: 'revoked' });
  });
});
