// Issue #12 item 2: one clock for shared deadlines. Processes whose own clocks (the manager's `now`)
// are 2 min or 20 s ahead of or behind the shared clock (the store's `time()`, here the simulator's
// clock, as Redis TIME is in production) measure their offset to it, so a lease one process writes
// is judged by another on the same time line: a burst costs exactly one token request (two when
// the first hangs), nothing is revoked, no token is served after the server expired it, and each
// skewed process logs one clock_skew warning.

import { fingerprint } from 'jira-token-rotation';
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

    test.each([
      // Nothing hangs: ONE token request.
      ['answers at once', [] as const, { tokenRequests: 1, rotations: 1 }],
      // The first request hangs (the server never sees it: `hang` does not touch the family) and
      // times out, leaving the chain in doubt; the holder confirms its lease by a renewal and
      // retries once with the same refresh token (tokenRequestAttempts 2): TWO token requests, one
      // rotation, no leeway reuse. The waiter, judging the heartbeat-renewed lease on the shared
      // clock, sends none.
      ['first request hangs', ['hang'] as const, { tokenRequests: 2, rotations: 1 }],
    ])('a burst whose holder %s: exact token requests, 0 revocations', async (_label, script, expected) => {
      h.server.sim.clock.advance(HOUR + 5 * 60_000); // expired for either clock, skewed or not
      const skewed = spawn(skewMs, skewedHolds);
      const exact = spawn(0, !skewedHolds);
      const [holder, waiter] = skewedHolds ? [skewed, exact] : [exact, skewed];
      await Promise.all(children.map((c) => c.next('ready')));
      h.server.sim.scriptOutcomes([...script]);

      holder.send({ type: 'burst', concurrency: 10 });
      await holder.next('paused');
      waiter.send({ type: 'burst', concurrency: 10 });
      await waiter.next('event', (m) => m.event === 'lease_held_elsewhere');
      holder.send({ type: 'proceed' });
      const done = await Promise.all([holder.next('done'), waiter.next('done')]);

      await expectOneValidToken(
        done.flatMap((d) => d.results),
        20,
      );
      expect(h.server.sim.stats()).toMatchObject({
        ...expected,
        leewayReuses: 0,
        revocations: 0,
        invalidGrant: 0,
      });
      // One warning from the skewed process, none from the exact one.
      expect((skewedHolds ? done[0] : done[1]).clockSkewWarnings).toBe(1);
      expect((skewedHolds ? done[1] : done[0]).clockSkewWarnings).toBe(0);
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
