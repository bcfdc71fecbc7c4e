// Issue #12 item 2: one clock for shared deadlines. Processes whose own clocks (the manager's `now`)
// are 2 min or 20 s ahead of or behind the shared clock (the store's `time()`, here the simulator's
// clock, as Redis TIME is in production) measure their offset to it, so a lease one process writes
// is judged by another on the same time line: a burst costs exactly one token request (a hung
// first one is sent again by nobody before the commit horizon), nothing is revoked, no token is served after the server expired it, and each
// skewed process logs one clock_skew warning.

import { DEFAULTS, fingerprint } from 'jira-token-rotation';
import { type ForkedChild, forkChild } from '../../support/forked-child';
import type { CallResult, FaultMessage } from '../support/fault-protocol';
import { HOUR, type Harness, childEnv, createHarness, leakedSecrets } from '../support/manager-harness';
import { testChild } from '../support/test-children';

const CHILD = testChild('fault-child');
const SKEWS = [120_000, -120_000, 20_000, -20_000];
/**
 * Short, so a hung first request costs 3 s of the test, not 10; long enough that a loaded machine
 * answers the second one in time (a timeout there would be a third request).
 */
const OPTIONS = { recoveryIntervalMs: 0, requestTimeoutMs: 3_000 };

type Child = ForkedChild<FaultMessage>;

describe('processes whose clocks are skewed', () => {
  let h: Harness;
  let children: Child[] = [];
  let consentToken = '';

  beforeEach(async () => {
    h = await createHarness('redis');
    consentToken = fingerprint((await h.consent()).access_token);
  });

  afterEach(async () => {
    await Promise.all(children.map((c) => c.kill()));
    children = [];
    const leaked = leakedSecrets(h.logger, h.probe.secrets);
    await h.close();
    expect(leaked).toEqual([]);
  });

  function spawn(skewMs: number, pause = false): Child {
    const child = forkChild<FaultMessage>(CHILD, {
      ...childEnv(h),
      SKEW_MS: String(skewMs),
      SHARED_CLOCK: '1',
      PAUSE_AT_LEASE: pause ? '1' : '',
      SECRETS: JSON.stringify([...h.probe.secrets]),
      MANAGER_OPTIONS: JSON.stringify(OPTIONS),
    });
    children.push(child);
    return child;
  }

  /** Every call got the one token served, which is not the expired one and which the server accepts. */
  async function expectOneValidToken(results: CallResult[], calls: number): Promise<void> {
    expect(results).toHaveLength(calls);
    expect(results.filter((r) => !('ok' in r))).toEqual([]);
    const served = new Set(results.map((r) => ('ok' in r ? r.ok : '')));
    expect(served.size).toBe(1);
    expect(served.has(consentToken)).toBe(false);
    const stored = await h.manager.getAccessToken(h.user);
    h.probe.secrets.add(stored.accessToken);
    expect(fingerprint(stored.accessToken)).toBe([...served][0]);
    // Valid on the simulator's clock, the one the server judges expiry by.
    const me = await fetch(`${h.server.baseUrl}/me`, {
      headers: { authorization: `Bearer ${stored.accessToken}` },
    });
    expect(me.status).toBe(200);
  }

  describe.each(SKEWS)('one process %i ms off', (skewMs) => {
    // The process behind writes leases that look run out to the other one, the process ahead
    // judges the other's leases run out early: either way it is the one that must not take over.
    const skewedHolds = skewMs < 0;

    /** Starts both processes and a burst of 10 in each, the holder paused at its lease until the waiter waits. */
    async function burst(): Promise<[FaultMessage & { type: 'done' }, FaultMessage & { type: 'done' }]> {
      const skewed = spawn(skewMs, skewedHolds);
      const exact = spawn(0, !skewedHolds);
      const [holder, waiter] = skewedHolds ? [skewed, exact] : [exact, skewed];
      await Promise.all(children.map((c) => c.next('ready')));
      holder.send({ type: 'burst', concurrency: 10 });
      await holder.next('paused');
      waiter.send({ type: 'burst', concurrency: 10 });
      await waiter.next('event', (m) => m.event === 'lease_held_elsewhere');
      holder.send({ type: 'proceed' });
      const done = await Promise.all([holder.next('done'), waiter.next('done')]);
      // One warning from the skewed process, none from the exact one.
      expect((skewedHolds ? done[0] : done[1]).clockSkewWarnings).toBe(1);
      expect((skewedHolds ? done[1] : done[0]).clockSkewWarnings).toBe(0);
      return done;
    }

    test('a burst whose holder answers at once: ONE token request, 0 revocations', async () => {
      h.server.sim.clock.advance(HOUR + 5 * 60_000); // expired for either clock, skewed or not
      const done = await burst();
      await expectOneValidToken(
        done.flatMap((d) => d.results),
        20,
      );
      expect(h.server.sim.stats()).toMatchObject({
        tokenRequests: 1,
        rotations: 1,
        leewayReuses: 0,
        revocations: 0,
        invalidGrant: 0,
      });
    });

    test('a burst whose holder first request hangs: one request before the commit horizon, one after it, 0 revocations', async () => {
      h.server.sim.clock.advance(HOUR + 5 * 60_000);
      // The first request hangs (the server never sees it: `hang` does not touch the family) and
      // times out. It may still reach the server, so no process sends that refresh token again
      // before the commit horizon (invariant 12), judged on the shared clock by the skewed process
      // and the exact one alike: every call of the burst gets 503 with Retry-After 60, and the
      // server saw ONE token request.
      h.server.sim.scriptOutcomes(['hang']);
      const first = await burst();
      const answers = first.flatMap((d) => d.results);
      expect(answers).toHaveLength(20);
      // Retry-After runs to the horizon: 60 s, or 61 where a process's measured offset (good to
      // half a round trip, a few ms) puts its now a hair before the holder's and the ceiling rounds up.
      expect(answers.map((r) => ({ ...r, retryAfterSeconds: undefined }))).toEqual(
        Array(20).fill({ error: 'jira_upstream_unavailable', status: 503, retryAfterSeconds: undefined }),
      );
      const retryAfter = new Set(answers.map((r) => ('retryAfterSeconds' in r ? r.retryAfterSeconds : 0)));
      expect([...retryAfter].filter((seconds) => seconds !== 60 && seconds !== 61)).toEqual([]);
      expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0, revocations: 0 });
      await Promise.all(children.map((c) => c.kill()));
      children = [];

      // Past the horizon on the shared clock, the chain is recovered with ONE more request, a plain
      // rotation (the hung one never committed), and the token it gets is valid on the server.
      // The children's shared clock is the simulator's at their measurement plus the real time since
      // (the hung request's 3 s timeout), so the horizon lies that much past the simulator's now.
      h.server.sim.clock.advance(DEFAULTS.commitHorizonMs + OPTIONS.requestTimeoutMs + 5_000);
      const recovered = await h.manager.getAccessToken(h.user);
      h.probe.secrets.add(recovered.accessToken);
      const me = await fetch(`${h.server.baseUrl}/me`, {
        headers: { authorization: `Bearer ${recovered.accessToken}` },
      });
      expect(me.status).toBe(200);
      expect(h.server.sim.stats()).toMatchObject({
        tokenRequests: 2,
        rotations: 1,
        leewayReuses: 0,
        revocations: 0,
        invalidGrant: 0,
      });
    });
  });

  test.each([-120_000, 120_000])(
    'a process %i ms off never serves a token after the server expired it',
    async (skewMs) => {
      // 30 s past the token's expiry on the server's clock: inside the 60 s margin of a process
      // 2 min behind, were it judging by its own clock.
      h.server.sim.clock.advance(HOUR + 30_000);
      const alone = spawn(skewMs);
      await alone.next('ready');
      alone.send({ type: 'burst', concurrency: 10 });
      const done = await alone.next('done');
      await expectOneValidToken(done.results, 10);
      expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, revocations: 0 });
      expect(done.clockSkewWarnings).toBe(1);
    },
  );
});
