// A process SIGKILLed while it holds a user's lock, at each step of a rotation (crash-points.ts):
// the other processes still end with one valid token, the chain stays alive, nothing is revoked;
// and with nobody waiting and no later request, the recovery sweeper alone restores the chain.

import { fingerprint } from 'jira-token-rotation';
import { type ForkedChild, forkChild } from '../../support/forked-child';
import { CRASH_POINTS, type CrashPoint } from '../support/crash-points';
import type { CallResult, FaultMessage } from '../support/fault-protocol';
import { type Harness, childEnv, createHarness, leakedSecrets } from '../support/manager-harness';
import { testChild } from '../support/test-children';

const CHILD = testChild('fault-child');

// Short budgets, so the parent can move the clock past a lease (dead-holder.test.ts runs the
// defaults in real time). A SIGKILLed holder's lock key stays until its TTL: waiting for it (under
// the lock, never around it) is the subject here.
const LEASE_MS = 2_500;
const BUDGETS = {
  requestTimeoutMs: 1_000,
  tokenRequestAttempts: 2,
  leaseMs: LEASE_MS,
  lockTtlMs: 3_000,
  noticeTimeoutMs: 200,
  waitTimeoutMs: 10_000,
};

/** What the simulator counts, per crash point, once the survivors (or the sweeper) are done. */
const EXPECTED: Record<CrashPoint, { tokenRequests: number; rotations: number; leewayReuses: number }> = {
  // The request never left: the survivor rotates the untouched refresh token.
  before_request: { tokenRequests: 1, rotations: 1, leewayReuses: 0 },
  // The server rotated but nobody stored it: the survivor reuses the old token inside the leeway.
  after_commit: { tokenRequests: 2, rotations: 1, leewayReuses: 1 },
  // The new tokens were stored: waiters find them on their bounded re-read, nothing to recover.
  before_notice: { tokenRequests: 1, rotations: 1, leewayReuses: 0 },
};
const RECOVERS: Record<CrashPoint, boolean> = {
  before_request: true,
  after_commit: true,
  before_notice: false,
};

type Child = ForkedChild<FaultMessage>;

describe.each(CRASH_POINTS)('the lock holder is SIGKILLed %s', (point) => {
  let h: Harness;
  let children: Child[] = [];
  /** When the children's clocks were last synchronised with the simulator's. */
  let syncedAt = 0;

  beforeEach(async () => {
    h = await createHarness('redis');
    await h.consent();
    h.expire();
    syncedAt = Date.now();
  });

  afterEach(async () => {
    await Promise.all(children.map((c) => c.kill()));
    children = [];
    const leaked = leakedSecrets(h.logger, h.probe.secrets);
    await h.close();
    expect(leaked).toEqual([]);
  });

  function spawn(env: { crashAt?: CrashPoint; pause?: boolean; recoveryIntervalMs?: number } = {}): Child {
    const child = forkChild<FaultMessage>(CHILD, {
      ...childEnv(h),
      CRASH_AT: env.crashAt ?? '',
      PAUSE_AT_LEASE: env.pause ? '1' : '',
      SECRETS: JSON.stringify([...h.probe.secrets]),
      MANAGER_OPTIONS: JSON.stringify({ ...BUDGETS, recoveryIntervalMs: env.recoveryIntervalMs ?? 0 }),
    });
    children.push(child);
    return child;
  }

  /** Moves the simulator past every lease taken so far, and every child's clock with it. */
  function passTheLease(survivors: Child[]): void {
    h.server.sim.clock.advance(Date.now() - syncedAt + LEASE_MS + 1);
    syncedAt = Date.now();
    for (const child of survivors) child.send({ type: 'clock', simNow: h.server.sim.clock.now() });
  }

  /** The chain is alive: after the leeway, the stored refresh token still rotates, nothing is revoked. */
  async function expectChainAlive(): Promise<void> {
    const before = h.server.sim.stats();
    expect((await h.manager.status(h.user))?.state).toBe('active');
    h.expire(); // an hour: far past the 10-minute leeway of any older refresh token
    const token = await h.manager.getAccessToken(h.user);
    h.probe.secrets.add(token.accessToken);
    expect(h.server.sim.stats()).toMatchObject({
      rotations: before.rotations + 1,
      revocations: 0,
      invalidGrant: 0,
    });
  }

  /** The token stored now is the one `fingerprints` name, and the simulator accepts it. */
  async function expectStoredTokenValid(fingerprintOfToken: string): Promise<void> {
    const stored = await h.manager.getAccessToken(h.user);
    h.probe.secrets.add(stored.accessToken);
    expect(fingerprint(stored.accessToken)).toBe(fingerprintOfToken);
    const me = await fetch(`${h.server.baseUrl}/me`, {
      headers: { authorization: `Bearer ${stored.accessToken}` },
    });
    expect(me.status).toBe(200);
  }

  test('the waiting processes finish with one valid token, with one more token request at most', async () => {
    const holder = spawn({ crashAt: point, pause: true });
    const survivors = [spawn(), spawn()];
    await Promise.all(children.map((c) => c.next('ready')));

    holder.send({ type: 'burst', concurrency: 5 });
    await holder.next('paused'); // it holds the lock and a live lease
    for (const s of survivors) s.send({ type: 'burst', concurrency: 10 });
    await Promise.all(survivors.map((s) => s.next('event', (m) => m.event === 'lease_held_elsewhere')));
    holder.send({ type: 'proceed' });
    expect(await holder.next('crash-point')).toEqual({ type: 'crash-point', point });
    await holder.kill();
    passTheLease(survivors);

    const done = await Promise.all(survivors.map((s) => s.next('done')));
    const results: CallResult[] = done.flatMap((d) => d.results);
    expect(results).toHaveLength(20);
    expect(results.filter((r) => !('ok' in r))).toEqual([]);
    const tokens = new Set(results.map((r) => ('ok' in r ? r.ok : '')));
    expect(tokens.size).toBe(1);
    expect(done.map((d) => d.leaked)).toEqual([[], []]);

    const recovered = RECOVERS[point] ? 1 : 0;
    expect(h.server.sim.stats()).toMatchObject({ ...EXPECTED[point], revocations: 0, invalidGrant: 0 });
    expect(done.reduce((n, d) => n + d.stats.rotations, 0)).toBe(recovered);
    expect(done.reduce((n, d) => n + d.stats.recoveries, 0)).toBe(recovered);
    expect(done.reduce((n, d) => n + d.stats.inDoubt.holder_died, 0)).toBe(recovered);
    await expectStoredTokenValid([...tokens][0]);
    await expectChainAlive();
  });

  test('with nobody waiting and no later request, recovery alone restores the chain inside the leeway', async () => {
    const crashedAfter = h.server.sim.clock.now(); // the lease starts later on the holder's clock
    const holder = spawn({ crashAt: point });
    const idle = spawn({ recoveryIntervalMs: 100 });
    await Promise.all(children.map((c) => c.next('ready')));

    holder.send({ type: 'burst', concurrency: 1 });
    await holder.next('crash-point');
    await holder.kill();
    passTheLease([idle]);

    if (RECOVERS[point]) {
      // The idle process's sweeper takes the dead holder's lock once its TTL has run out.
      const event = await idle.next('event', (m) => m.event === 'in_doubt_recovered');
      expect(event.reason).toBe('holder_died');
    } else {
      idle.send({ type: 'sweep' });
      expect(await idle.next('swept')).toEqual({ type: 'swept', recovered: 0 });
    }
    const status = await h.manager.status(h.user);
    expect(status).toMatchObject({ state: 'active', inDoubt: undefined });
    // Restored (or never lost) before the leeway of the refresh token in use could run out.
    expect(status!.lastRotatedAt).toBeLessThan(crashedAfter + 10 * 60_000);
    expect(h.server.sim.stats()).toMatchObject({ ...EXPECTED[point], revocations: 0, invalidGrant: 0 });
    await expectChainAlive();
  });
});
