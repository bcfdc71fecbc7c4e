// Keep-alive against the simulator, in both configurations: a sweep rotates exactly the idle
// chains, the sim's 90-day inactivity expiry never bites a kept-alive chain (and does bite without
// keep-alive), concurrent sweepers and a racing burst still cost one rotation per chain, and
// chains that are not active are paged past, not rotated.

import { ReauthorizationRequiredError, type UserRef } from '../../src';
import {
  type Configuration,
  HOUR,
  type Harness,
  SITE,
  createHarness,
  leakedSecrets,
} from '../../../test/support/manager-harness';
import { holdNextAnswer } from '../../../test/support/sim-server';

const DAY = 24 * HOUR;
const configurations: Configuration[] = ['memory', 'redis'];
/** Fast enough for tests; the rate limit itself is tested with a fake clock (keep-alive-pacing). */
const FAST = { keepAliveRatePerSecond: 10_000 };

const userOf = (h: Harness, i: number): UserRef => ({
  clientKey: h.user.clientKey,
  accountId: `keep-alive-user-${i}`,
});

describe.each(configurations)('keep-alive (%s)', (configuration) => {
  const harnesses: Harness[] = [];
  const open = async (overrides = {}): Promise<Harness> => {
    const h = await createHarness(configuration, { ...FAST, ...overrides });
    harnesses.push(h);
    return h;
  };

  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      // Invariant 6: no token the manager ever held is in its logs.
      expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
      await h.close();
    }
  });

  /**
   * Consents users `from`..`to - 1` now: each its own token family in the sim (one sim account may
   * consent any number of times) and its own record.
   */
  const consentUsers = async (h: Harness, from: number, to: number): Promise<UserRef[]> => {
    const users = Array.from({ length: to - from }, (_, i) => userOf(h, from + i));
    for (const user of users) {
      const tokens = h.server.sim.consent(h.user.accountId);
      h.probe.secrets.add(tokens.access_token);
      if (tokens.refresh_token) h.probe.secrets.add(tokens.refresh_token);
      await h.manager.save(user, tokens, SITE);
    }
    return users;
  };

  test('one sweep rotates exactly the chains idle for longer than keepAliveAfterDays', async () => {
    const h = await open();
    const idle = await consentUsers(h, 0, 6);
    h.server.sim.clock.advance(31 * DAY);
    const fresh = await consentUsers(h, 6, 10);

    const sweep = await h.manager.keepAlive();
    expect(sweep).toEqual({ swept: true, rotated: 6, failed: 0, skipped: 0 });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 6, revocations: 0, invalidGrant: 0 });
    expect(h.manager.stats()).toMatchObject({ keepAliveRotations: 6, keepAliveFailures: 0, rotations: 6 });
    const now = h.server.sim.clock.now();
    for (const user of idle) expect((await h.manager.status(user))!.lastRotatedAt).toBe(now);
    for (const user of fresh) expect((await h.manager.status(user))!.lastRotatedAt).toBe(now);

    // Nothing is idle any more: the next sweep costs no rotation.
    expect(await h.manager.keepAlive()).toEqual({ swept: true, rotated: 0, failed: 0, skipped: 0 });
    expect(h.server.sim.stats().rotations).toBe(6);
  });

  test("with sweeps, Atlassian's 90-day inactivity expiry never bites; without, it does", async () => {
    const kept = await open();
    const control = await open({ keepAliveAfterDays: false });
    const keptUsers = await consentUsers(kept, 0, 5);
    const controlUsers = await consentUsers(control, 0, 5);
    // 130 days in steps of 10, a sweep after each: no chain goes unused for more than 40 days.
    for (let day = 10; day <= 130; day += 10) {
      kept.server.sim.clock.advance(10 * DAY);
      control.server.sim.clock.advance(10 * DAY);
      expect((await kept.manager.keepAlive()).failed).toBe(0);
      expect(await control.manager.keepAlive()).toEqual({ swept: false, rotated: 0, failed: 0, skipped: 0 });
    }
    // Rotated at days 40, 80 and 120.
    expect(kept.server.sim.stats()).toMatchObject({ rotations: 15, revocations: 0, invalidGrant: 0 });
    expect(kept.server.sim.stats().families).toEqual({ active: 5, revoked: 0 });
    for (const user of keptUsers) await expect(kept.manager.getAccessToken(user)).resolves.toBeDefined();

    // The control's families expired by inactivity (130 < 365 days), unrevoked, and its users must reconnect.
    expect(control.server.sim.stats().families).toEqual({ active: 0, revoked: 0 });
    for (const user of controlUsers)
      await expect(control.manager.getAccessToken(user)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(control.server.sim.stats()).toMatchObject({ rotations: 0, invalidGrant: 5, revocations: 0 });
  });

  test('two managers sweeping at once rotate each idle chain exactly once', async () => {
    const h = await open();
    const other = h.sibling();
    await consentUsers(h, 0, 8);
    h.server.sim.clock.advance(40 * DAY);
    await consentUsers(h, 8, 10);

    const [a, b] = await Promise.all([h.manager.keepAlive(), other.keepAlive()]);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 8, revocations: 0, leewayReuses: 0 });
    expect(a.rotated + b.rotated).toBe(8);
    expect(a.failed + b.failed).toBe(0);
    if (configuration === 'redis') {
      // The sweeper lock: one process swept, the other stood aside.
      expect([a.swept, b.swept].sort()).toEqual([false, true]);
    } else {
      // Memory siblings share the store but not a lock: both swept, and the per-user protocol
      // (the re-check and the fenced lease) kept it to one rotation per chain.
      expect([a.swept, b.swept]).toEqual([true, true]);
    }
  });

  test('a burst of requests racing a keep-alive rotation costs exactly one rotation', async () => {
    const h = await open();
    await h.consent();
    h.server.sim.clock.advance(31 * DAY);
    const held = holdNextAnswer(h.probe);
    const sweep = h.manager.keepAlive();
    await held.arrived; // the sweeper's rotation reached the server; its answer is held
    if (h.redis) {
      // The sweeper holds the cluster-wide lock while it works.
      expect(await h.redis.pttl(`${h.keyPrefix}job:keepalive`)).toBeGreaterThan(0);
    }
    const requester = configuration === 'redis' ? h.sibling() : h.manager;
    const burst = Promise.all(Array.from({ length: 20 }, () => requester.getAccessToken(h.user)));
    held.release();
    const tokens = await burst;
    expect(await sweep).toEqual({ swept: true, rotated: 1, failed: 0, skipped: 0 });
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0, leewayReuses: 0 });
    if (h.redis) expect(await h.redis.exists(`${h.keyPrefix}job:keepalive`)).toBe(0);
  });

  test('a burst that rotated first leaves the sweep nothing to do', async () => {
    const h = await open();
    await h.consent();
    h.server.sim.clock.advance(31 * DAY);
    await Promise.all(Array.from({ length: 10 }, () => h.manager.getAccessToken(h.user)));
    expect(await h.manager.keepAlive()).toEqual({ swept: true, rotated: 0, failed: 0, skipped: 0 });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
  });

  test('a chain a request rotated after the sweep listed it is left alone (re-checked under its lock)', async () => {
    const h = await open();
    const [first] = await consentUsers(h, 0, 1);
    h.server.sim.clock.advance(1);
    const [second] = await consentUsers(h, 1, 2);
    h.server.sim.clock.advance(31 * DAY);
    // The sweep lists both, then waits on the first (older) one's answer...
    const held = holdNextAnswer(h.probe);
    const sweep = h.manager.keepAlive();
    await held.arrived;
    // ...while a request rotates the second one.
    await h.manager.getAccessToken(second);
    held.release();
    expect(await sweep).toEqual({ swept: true, rotated: 1, failed: 0, skipped: 1 });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 2, revocations: 0, leewayReuses: 0 });
    expect((await h.manager.status(first))!.state).toBe('active');
  });

  test('chains that are not active are paged past, never rotated', async () => {
    const h = await open({ keepAliveBatchSize: 2 });
    // Three dead chains: the oldest entries of the idle index, ahead of every live one.
    const dead = await consentUsers(h, 0, 3);
    h.server.sim.clock.advance(91 * DAY);
    for (const user of dead)
      await expect(h.manager.getAccessToken(user)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    const live = await consentUsers(h, 3, 8);
    h.server.sim.clock.advance(31 * DAY);
    h.server.sim.resetStats();

    expect(await h.manager.keepAlive()).toEqual({ swept: true, rotated: 5, failed: 0, skipped: 3 });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 5, invalidGrant: 0, revocations: 0 });
    for (const user of dead)
      expect(await h.manager.status(user)).toMatchObject({ state: 'reauthorization_required' });
    for (const user of live) expect(await h.manager.status(user)).toMatchObject({ state: 'active' });
  });

  test('a failed keep-alive rotation is counted and logged, never thrown; the chain goes to recovery', async () => {
    const h = await open();
    const [first, second] = await consentUsers(h, 0, 2);
    h.server.sim.clock.advance(31 * DAY);
    // Both attempts of the first rotation fail with a 5xx: the chain is in doubt.
    h.server.sim.scriptOutcomes(['server_error', 'server_error']);

    expect(await h.manager.keepAlive()).toEqual({ swept: true, rotated: 1, failed: 1, skipped: 0 });
    expect(h.manager.stats()).toMatchObject({ keepAliveRotations: 1, keepAliveFailures: 1 });
    const states = [(await h.manager.status(first))!.state, (await h.manager.status(second))!.state];
    expect(states.sort()).toEqual(['active', 'in_doubt']);
    expect(h.logger.entries.some((e) => e.obj.event === 'keep_alive_swept' && e.level === 'warn')).toBe(true);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
  });

  test('keepAliveAfterDays 0 disables keep-alive', async () => {
    const h = await open({ keepAliveAfterDays: 0 });
    await h.consent();
    h.server.sim.clock.advance(60 * DAY);
    expect(await h.manager.keepAlive()).toEqual({ swept: false, rotated: 0, failed: 0, skipped: 0 });
    expect(h.server.sim.stats().tokenRequests).toBe(0);
  });

  test('status() says when the family ends, and asks to reconnect in its last 14 days', async () => {
    const h = await open();
    await h.consent();
    const consentAt = h.server.sim.clock.now();
    expect(await h.manager.status(h.user)).toMatchObject({
      familyStartedAt: consentAt,
      familyExpiresAt: consentAt + 365 * DAY,
      reconnectSoon: false,
    });
    h.server.sim.clock.advance(351 * DAY - 1);
    expect((await h.manager.status(h.user))!.reconnectSoon).toBe(false);
    h.server.sim.clock.advance(1);
    expect((await h.manager.status(h.user))!.reconnectSoon).toBe(true);
  });
});
