// The rotation protocol in one process, against the simulator, in both configurations: the
// embedded default (memory store, in-process lock) and Redis (RedisTokenStore, redlock).

import {
  ClientCredentialsRejectedError,
  DEFAULTS,
  NotConnectedError,
  ReauthorizationRequiredError,
  UpstreamUnavailableError,
  createTokenManager,
} from '../../src';
import { encodeAccountId, tenantTag } from '../../src/store/user-key';
import {
  type Configuration,
  HOUR,
  type Harness,
  createHarness,
  leakedSecrets,
} from '../../../test/support/manager-harness';
import { holdNextAnswer } from '../../../test/support/sim-server';

const configurations: Configuration[] = ['memory', 'redis'];

describe.each(configurations)('token manager (%s)', (configuration) => {
  let h: Harness;
  const open = async (overrides = {}): Promise<Harness> =>
    (h = await createHarness(configuration, overrides));

  afterEach(async () => {
    // Invariant 6: nothing logged in any test contains a token the manager ever held.
    expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
    await h.close();
  });

  /** Releases the user's lock behind its holder's back, as if its TTL ran out. */
  const lapseLock = async (): Promise<void> => {
    if (!h.redis) return; // memory: siblings never shared a lock
    const key = `${h.keyPrefix}${tenantTag(h.user.clientKey)}:lock:${encodeAccountId(h.user.accountId)}`;
    expect(await h.redis.del(key)).toBe(1);
  };

  test('a burst of 50 calls after expiry costs exactly one rotation', async () => {
    await open();
    await h.consent();
    h.expire();
    const results = await Promise.all(Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user)));
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 0, revocations: 0 });
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(h.probe.secrets.has(results[0].accessToken)).toBe(true);
    expect(results[0].cloudId).toBe('a1b2c3d4-0001-4000-8000-000000000001');
  });

  test('form-encoded token requests (RFC 6749) rotate the same way', async () => {
    await open({ tokenRequestEncoding: 'form' });
    await h.consent();
    h.expire();
    const results = await Promise.all(Array.from({ length: 20 }, () => h.manager.getAccessToken(h.user)));
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0, invalidClient: 0 });
  });

  test('a fresh token comes from the process cache without touching the store', async () => {
    await open();
    const consent = await h.consent();
    const first = await h.manager.getAccessToken(h.user);
    const reads = h.manager.stats().storeReads;
    for (let i = 0; i < 100; i++)
      expect((await h.manager.getAccessToken(h.user)).accessToken).toBe(consent.access_token);
    expect(h.manager.stats().storeReads).toBe(reads);
    expect(h.manager.stats().cacheHits).toBe(100);
    expect(first.accessToken).toBe(consent.access_token);
    expect(h.server.sim.stats().tokenRequests).toBe(0);
  });

  test('a cache hit hands out the cached token itself, frozen, not a copy per call', async () => {
    await open();
    await h.consent();
    const loaded = await h.manager.getAccessToken(h.user);
    const hit = await h.manager.getAccessToken(h.user);
    expect(h.manager.cachedAccessToken(h.user)).toBe(hit);
    expect(hit).toBe(loaded);
    expect(Object.isFrozen(hit)).toBe(true);
    expect(Object.keys(hit).sort()).toEqual(['accessToken', 'cloudId', 'expiresAt']);
    expect(h.manager.stats().cacheHits).toBe(2);
  });

  test('a burst of 50 calls after a 401 costs exactly one rotation', async () => {
    await open();
    const consent = await h.consent();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user, { rejected: consent.access_token })),
    );
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
    const tokens = new Set(results.map((r) => r.accessToken));
    expect(tokens.size).toBe(1);
    expect(tokens.has(consent.access_token)).toBe(false);
    // A late 401 for the old token does not rotate again: the record already moved on.
    await h.manager.getAccessToken(h.user, { rejected: consent.access_token });
    expect(h.server.sim.stats().rotations).toBe(1);
  });

  test('a real invalid_grant marks the chain for re-consent, logged once for 50 callers', async () => {
    await open();
    const consent = await h.consent();
    // Kill the family at the simulator: rotate, then reuse the first token after the leeway.
    await refreshDirectly(h, consent.refresh_token!);
    h.server.sim.clock.advance(11 * 60_000);
    expect((await refreshDirectly(h, consent.refresh_token!)).status).toBe(403);
    expect(h.server.sim.stats().revocations).toBe(1);
    h.expire();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user)),
    );
    expect(
      outcomes.every((o) => o.status === 'rejected' && o.reason instanceof ReauthorizationRequiredError),
    ).toBe(true);
    expect(h.logger.events('reauthorization_required')).toHaveLength(1);
    expect((await h.manager.status(h.user))?.state).toBe('reauthorization_required');
    // Terminal until a new consent: no further token request.
    const requests = h.server.sim.stats().tokenRequests;
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(h.server.sim.stats().tokenRequests).toBe(requests);
    await h.consent();
    await expect(h.manager.getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
  });

  test('invalid_client is a configuration alarm and never marks the user', async () => {
    await open({ clientSecret: 'wrong-secret' });
    await h.consent();
    h.expire();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user)),
    );
    for (const o of outcomes)
      expect(o.status === 'rejected' && o.reason).toBeInstanceOf(ClientCredentialsRejectedError);
    expect((await h.manager.status(h.user))?.state).toBe('active');
    expect(h.logger.events('client_credentials_rejected')).toHaveLength(1);
    expect(h.logger.events('reauthorization_required')).toHaveLength(0);
    expect(h.server.sim.stats()).toMatchObject({ invalidClient: 1, rotations: 0, revocations: 0 });
  });

  test('an answer lost after the server rotated is recovered by the sweeper, with no user request', async () => {
    await open({ requestTimeoutMs: 300, tokenRequestAttempts: 1, recoveryIntervalMs: 50 });
    await h.consent();
    h.server.sim.scriptOutcomes(['hang_after_commit']);
    h.expire();
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    // The timed-out request may still commit: no sweep sends the token again before the horizon.
    expect(await h.manager.recoverInDoubt()).toBe(0);
    expect(h.probe.tokenRequests).toBe(1);
    h.server.sim.clock.advance(DEFAULTS.commitHorizonMs);
    const recovered = await h.logger.waitForEvent('in_doubt_recovered');
    expect(recovered.obj.reason).toBe('timeout');
    expect(h.logger.events('in_doubt')).toHaveLength(1);
    expect(h.manager.stats().inDoubt.timeout).toBe(1);
    // The hung request rotated; recovery reused the previous token inside the leeway.
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, revocations: 0 });
    expect((await h.manager.status(h.user))?.state).toBe('active');
    h.expire();
    await h.manager.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 2, revocations: 0 });
  });

  test('when inDoubtRetryMs outlasts the wait budget, a failed attempt answers 503 at once, and so does the next request; after it, a request retries', async () => {
    await open({ tokenRequestAttempts: 1, inDoubtRetryMs: 60_000 });
    await h.consent();
    h.server.sim.scriptOutcomes(['server_error']);
    h.expire();
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.probe.tokenRequests).toBe(1);
    const paced = await h.manager.getAccessToken(h.user).catch((e: unknown) => e);
    expect(paced).toBeInstanceOf(UpstreamUnavailableError);
    expect(paced).toMatchObject({ status: 503, retryAfterSeconds: 60 });
    expect(h.probe.tokenRequests).toBe(1);
    h.server.sim.clock.advance(60_000);
    await expect(h.manager.getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
    expect(h.probe.tokenRequests).toBe(2);
    expect(h.manager.stats()).toMatchObject({
      recoveries: 1,
      inDoubt: expect.objectContaining({ server_error: 1 }),
    });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
  });

  test('a burst whose first token request answers 500 twice rides through: once inDoubtRetryMs has passed one call recovers, and every call gets the token', async () => {
    await open();
    await h.consent();
    h.server.sim.scriptOutcomes(['server_error', 'server_error']);
    h.expire();
    const burst = Array.from({ length: 20 }, () => h.manager.getAccessToken(h.user));
    await h.logger.waitForEvent('in_doubt');
    // The chain is in doubt and paced: no call retries before inDoubtRetryMs, and none answers.
    expect(h.probe.tokenRequests).toBe(2);
    h.server.sim.clock.advance(5_000);
    const tokens = await Promise.all(burst);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(h.probe.secrets.has(tokens[0].accessToken)).toBe(true);
    expect(h.probe.tokenRequests).toBe(3);
    expect(h.manager.stats()).toMatchObject({
      recoveries: 1,
      inDoubt: expect.objectContaining({ server_error: 1 }),
    });
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 0, revocations: 0 });
  });

  test('a response without refresh_token is recovered, and the chain survives the next hour', async () => {
    await open();
    await h.consent();
    h.server.sim.scriptOutcomes(['missing_refresh_token']);
    h.expire();
    const token = await h.manager.getAccessToken(h.user);
    expect(h.probe.secrets.has(token.accessToken)).toBe(true);
    await h.logger.waitForEvent('in_doubt_recovered');
    expect(h.manager.stats().inDoubt.missing_refresh_token).toBe(1);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, revocations: 0 });
    h.server.sim.clock.advance(HOUR);
    await h.manager.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 2, revocations: 0, invalidGrant: 0 });
    expect((await h.manager.status(h.user))?.state).toBe('active');
  });

  test('inside the refresh-ahead window, 50 calls get the current token at once and one rotation runs behind them', async () => {
    await open();
    const consent = await h.consent();
    h.server.sim.clock.advance(HOUR - 2 * 60_000); // 2 minutes left: fresh, but inside the 5-minute window
    const results = await Promise.all(Array.from({ length: 50 }, () => h.manager.getAccessToken(h.user)));
    expect(results.every((r) => r.accessToken === consent.access_token)).toBe(true);
    await h.manager.whenIdle();
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
    expect(h.manager.stats().refreshAheadStarted).toBe(1);
    const next = await h.manager.getAccessToken(h.user);
    expect(next.accessToken).not.toBe(consent.access_token);
    expect(h.probe.secrets.has(next.accessToken)).toBe(true);
    // The new token is outside the window: cache hits start nothing more.
    await h.manager.whenIdle();
    expect(h.manager.stats().refreshAheadStarted).toBe(1);
    expect(h.server.sim.stats().rotations).toBe(1);
  });

  test('refresh-ahead is capped at a fifth of the lifetime, and 0 disables it', async () => {
    await open({ refreshAheadMs: 0 });
    await h.consent();
    h.server.sim.clock.advance(HOUR - 2 * 60_000);
    await h.manager.getAccessToken(h.user);
    await h.manager.whenIdle();
    expect(h.server.sim.stats().rotations).toBe(0);
    const short = h.sibling({ refreshAheadMs: 300_000 });
    const user = { clientKey: h.user.clientKey, accountId: 'sim-user-2' };
    const tokens = h.server.sim.consent('sim-user-2');
    for (const t of [tokens.access_token, tokens.refresh_token!]) h.probe.secrets.add(t);
    await short.save(user, { ...tokens, expires_in: 100 });
    h.server.sim.clock.advance(50_000); // 50 s left of 100: outside a window capped at 20 s
    await short.getAccessToken(user);
    await short.whenIdle();
    expect(h.server.sim.stats().rotations).toBe(0);
    h.server.sim.clock.advance(35_000); // 15 s left: inside the window, still fresh (margin 12 s)
    await short.getAccessToken(user);
    await short.whenIdle();
    expect(h.server.sim.stats().rotations).toBe(1);
  });

  test('a holder whose lock lapsed keeps its lease: no second token request, and its late write loses', async () => {
    await open();
    await h.consent();
    h.expire();
    // The simulator rotates now, but the answer is late.
    const held = holdNextAnswer(h.probe);
    const first = h.manager.getAccessToken(h.user);
    await held.arrived;
    await lapseLock();
    const sibling = h.sibling();
    const second = sibling.getAccessToken(h.user);
    await h.logger.waitForEvent('lease_held_elsewhere');
    expect(h.probe.tokenRequests).toBe(1);
    // The lease runs out: the sibling recovers with the same refresh token, inside the leeway.
    h.server.sim.clock.advance(26_000);
    const recovered = await second;
    held.release();
    const late = await first;
    expect(late.accessToken).toBe(recovered.accessToken);
    expect(h.manager.stats().lostCas).toBe(1);
    expect(h.probe.tokenRequests).toBe(2);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, revocations: 0 });
    h.expire();
    await h.manager.getAccessToken(h.user);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 2, revocations: 0 });
  });

  test('a holder whose lease ran out is taken over under the lock only, once its lock key is gone', async () => {
    // A lease long enough that the holder's heartbeat (every third of it, in real time) never
    // renews during the test: its lease runs out on the simulator's clock alone, as a dead one's does.
    await open({ leaseMs: 60_000, waitTimeoutMs: 120_000 });
    await h.consent();
    h.expire();
    // The holder's request reaches the server (which rotates) and its answer never comes back.
    const held = holdNextAnswer(h.probe);
    const holder = h.manager.getAccessToken(h.user);
    await held.arrived;
    const sibling = h.sibling();
    const waiting = sibling.getAccessToken(h.user);
    await h.logger.waitForEvent('lease_held_elsewhere');
    h.server.sim.clock.advance(61_000); // past the lease
    if (h.redis) {
      // The lock key still stands (its holder's process extends it): no takeover outside the lock.
      await h.logger.waitForEvent('lease_expired_lock_held');
      expect(h.probe.tokenRequests).toBe(1);
      await lapseLock(); // the key expires, as a dead process's does within lockTtlMs
    }
    const token = await waiting;
    expect(h.probe.secrets.has(token.accessToken)).toBe(true);
    expect(sibling.stats().inDoubt.holder_died).toBe(1);
    expect(h.probe.tokenRequests).toBe(2);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, revocations: 0 });
    held.release();
    // The holder's late write loses to the takeover; it then reads the sibling's token.
    expect((await holder).accessToken).toBe(token.accessToken);
    expect(h.manager.stats().lostCas).toBe(1);
  });

  test('invalid_grant after a sibling rotated adopts its tokens, no reauthorization', async () => {
    await open();
    await h.consent();
    h.expire();
    // This holder's request never reaches the server; the answer it gets is invalid_grant.
    const held = holdNextAnswer(h.probe, () =>
      Response.json(
        { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
        { status: 403 },
      ),
    );
    const first = h.manager.getAccessToken(h.user);
    await held.arrived;
    await lapseLock();
    h.server.sim.clock.advance(26_000);
    const won = await h.sibling().getAccessToken(h.user);
    held.release();
    expect((await first).accessToken).toBe(won.accessToken);
    expect(h.manager.stats().siblingAdopted).toBe(1);
    expect(h.logger.events('reauthorization_required')).toHaveLength(0);
    expect((await h.manager.status(h.user))?.state).toBe('active');
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
  });

  test('after a disconnect and a new consent, a late write of the old generation cannot overwrite it', async () => {
    await open();
    await h.consent();
    h.expire();
    const held = holdNextAnswer(h.probe);
    const late = h.manager.getAccessToken(h.user);
    await held.arrived;
    await h.manager.disconnect(h.user);
    const fresh = await h.consent();
    held.release();
    expect((await late).accessToken).toBe(fresh.access_token);
    expect(h.manager.stats().lostCas).toBe(1);
    expect((await h.manager.getAccessToken(h.user)).accessToken).toBe(fresh.access_token);
  });

  test('a late write after a disconnect cannot resurrect the record', async () => {
    await open();
    await h.consent();
    h.expire();
    const held = holdNextAnswer(h.probe);
    const late = h.manager.getAccessToken(h.user);
    await held.arrived;
    await h.manager.disconnect(h.user);
    held.release();
    await expect(late).rejects.toBeInstanceOf(NotConnectedError);
    expect(await h.manager.status(h.user)).toBeNull();
  });

  test('a user who never connected gets NotConnectedError and no token request', async () => {
    await open();
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(NotConnectedError);
    expect(h.probe.tokenRequests).toBe(0);
  });

  test('purgeTenant forgets every user of that tenant and nobody else', async () => {
    await open();
    await h.consent();
    const other = { clientKey: `${h.user.clientKey}:other`, accountId: 'sim-user-2' };
    await h.consent(other);
    await h.manager.getAccessToken(h.user);
    expect(await h.manager.purgeTenant(h.user.clientKey)).toBe(1);
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(NotConnectedError);
    await expect(h.manager.getAccessToken(other)).resolves.toHaveProperty('cloudId');
  });
});

test('the embedded default (no store, no lock, no key) gives the same single-process guarantee', async () => {
  const { startSim, fetchProbe } = await import('../../../test/support/sim-server');
  const server = await startSim();
  const probe = fetchProbe();
  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: server.tokenUrl,
    fetch: probe.fetch,
    now: () => server.sim.clock.now(),
  });
  try {
    const user = { clientKey: 'embedded', accountId: 'sim-user-1' };
    await manager.save(user, server.sim.consent('sim-user-1'));
    server.sim.clock.advance(HOUR + 1);
    const results = await Promise.all(Array.from({ length: 50 }, () => manager.getAccessToken(user)));
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(server.sim.stats()).toMatchObject({ rotations: 1, revocations: 0 });
  } finally {
    await manager.close();
    await server.close();
  }
});

async function refreshDirectly(h: Harness, refreshToken: string): Promise<Response> {
  const response = await fetch(h.server.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'refresh_token',
      client_id: 'sim-client-id',
      client_secret: 'sim-client-secret',
      refresh_token: refreshToken,
    }),
  });
  const body = (await response.clone().json()) as Record<string, unknown>;
  for (const field of ['access_token', 'refresh_token'])
    if (typeof body[field] === 'string') h.probe.secrets.add(body[field] as string);
  return response;
}
