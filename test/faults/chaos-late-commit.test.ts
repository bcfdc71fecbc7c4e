// The chaos workers under CPU load: the simulator, starved in the parent process, read a token
// request only after the worker's 300 ms timeout had ended it, and committed it late. With the
// workers' old `commitHorizonMs: 0` the sweeper resent the same refresh token at once; that retry
// rotated and was stored, the late request then landed as a leeway reuse of the previous token and
// retired the stored one, and the next rotation revoked the family (27 answers of 401
// jira_reauthorization_required in the chaos test). Here the same sequence runs without load: the
// late arrival is the simulator's `commit_late` on its own clock, and every step is driven by hand.

import { ReauthorizationRequiredError, UpstreamUnavailableError } from 'jira-token-rotation';
import { CHAOS_COMMIT_HORIZON_MS, WORKER_OPTIONS } from '../../chaos/chaos-settings';
import { type Harness, createHarness } from '../support/manager-harness';

/** How long after its client gave up the starved simulator reads the request: well inside the horizon. */
const LATE_MS = CHAOS_COMMIT_HORIZON_MS / 2;

let h: Harness | undefined;

/** Resolves once `condition` holds, checking on every turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a request the simulator reads after the worker's timeout: no retry before it lands, the chain survives", async () => {
  // The chaos workers' options; the sweeps are driven by hand so their order is the test's.
  h = await createHarness('memory', { ...WORKER_OPTIONS, recoveryIntervalMs: 0 });
  const { sim } = h.server;
  await h.consent();
  sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: LATE_MS, clock: 'sim' }]);
  h.expire();

  // The worker's request timed out: in doubt, nothing committed yet.
  const first = await h.manager.getAccessToken(h.user).catch((e: unknown) => e);
  expect(first).toBeInstanceOf(UpstreamUnavailableError);
  // On a busy machine the simulator reads the request only now: wait until it holds it.
  await until(() => sim.stats().chaos.lateCommits === 1);
  expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0 });
  expect((await h.manager.status(h.user))?.state).toBe('in_doubt');

  // The sweeper comes round before the late request reaches the server: it must not resend.
  expect(await h.manager.recoverInDoubt()).toBe(0);
  expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0 });

  // The late request lands and rotates the stored token away, unseen by anyone.
  sim.clock.advance(LATE_MS);
  expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0, revocations: 0 });

  // At the horizon the sweeper recovers by a leeway reuse of the previous token.
  sim.clock.advance(CHAOS_COMMIT_HORIZON_MS - LATE_MS);
  expect(await h.manager.recoverInDoubt()).toBe(1);
  expect(sim.stats()).toMatchObject({ tokenRequests: 2, rotations: 1, leewayReuses: 1, revocations: 0 });
  expect((await h.manager.status(h.user))?.state).toBe('active');

  // The stored refresh token is the server's current one: the next expiry is an ordinary rotation.
  h.expire();
  const next = await h.manager.getAccessToken(h.user).catch((e: unknown) => e);
  expect(next).not.toBeInstanceOf(ReauthorizationRequiredError);
  expect(next).toHaveProperty('accessToken');
  expect(sim.stats()).toMatchObject({
    tokenRequests: 3,
    rotations: 2,
    leewayReuses: 1,
    revocations: 0,
    families: { revoked: 0 },
  });
});
