// A token request that may have reached the server is never sent again before the commit horizon:
// a request held 12 s in front of the server commits after its client gave up, and the chain
// survives (no fork, no revocation). A request answers 503 when the horizon lies beyond its wait
// budget, and rides through (waits for the retry) when it lies within. A request that cannot have reached it (the port refused the
// connection), or that the server answered with a 500 (the exchange is over), is sent again at
// once; a gateway's 502 or 504 (its upstream may still be working) waits for the horizon. The
// simulator keeps Atlassian's rule that only the
// immediately previous refresh token is tolerated, so any fork shows as a revocation.

import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, type TokenManager, UpstreamUnavailableError } from 'jira-token-rotation';
import { type Harness, createHarness } from '../support/manager-harness';

const HELD_MS = 12_000;
// 60 s, the default (a literal, so the test still runs against code without the option).
const HORIZON_MS = 60_000;

let h: Harness | undefined;
let extraServer: Server | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
  if (extraServer) {
    extraServer.closeAllConnections();
    extraServer.close();
    await once(extraServer, 'close');
    extraServer = undefined;
  }
});

/** The refresh tokens the manager presents, each with its standing at the server when sent. */
function presentedTokens(harness: () => Harness) {
  const presented: Array<{ status: string }> = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (String(input).endsWith('/oauth/token') && typeof init?.body === 'string') {
      const token = (JSON.parse(init.body) as { refresh_token?: string }).refresh_token;
      if (token) presented.push({ status: harness().server.sim.refreshTokenStatus(token) });
    }
    return harness().probe.fetch(input, init);
  };
  return { presented, fetch };
}

async function unavailable(manager: TokenManager, user: Harness['user']): Promise<UpstreamUnavailableError> {
  const error = await manager.getAccessToken(user).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamUnavailableError);
  return error as UpstreamUnavailableError;
}

describe('a late commit', () => {
  test('the default commit horizon is 60 s', () => {
    expect(DEFAULTS.commitHorizonMs).toBe(HORIZON_MS);
  });

  test('a request held 12 s in front of the server, committing after the client gave up: no retry before the horizon, 0 revocations, the stored token is current', async () => {
    const tokens = presentedTokens(() => h!);
    // The client gives up after 300 ms of real time; the sim clock (every deadline) does not move.
    h = await createHarness('memory', { requestTimeoutMs: 300, fetch: tokens.fetch });
    const sibling = h.sibling();
    const { sim } = h.server;
    await h.consent();
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: HELD_MS, clock: 'sim' }]);
    h.expire();

    // The request timed out: in doubt, and a 503 until the horizon.
    expect((await unavailable(h.manager, h.user)).retryAfterSeconds).toBe(HORIZON_MS / 1000);
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0 });
    expect((await h.manager.status(h.user))?.state).toBe('in_doubt');

    // 12 s later the held request reaches the server and rotates the stored token away.
    sim.clock.advance(HELD_MS);
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, revocations: 0 });

    // Before the horizon nobody sends that token again: not a request, not a sweep, not another process.
    expect((await unavailable(h.manager, h.user)).retryAfterSeconds).toBe((HORIZON_MS - HELD_MS) / 1000);
    // 1 ms before the horizon the retry is due within the wait budget: a request in each process
    // rides through (waits for it) rather than answering 503, and still sends nothing.
    sim.clock.advance(HORIZON_MS - HELD_MS - 1);
    const waiting = [h.manager.getAccessToken(h.user), sibling.getAccessToken(h.user)];
    await h.logger.waitForEvents('riding_through', 2);
    expect(await h.manager.recoverInDoubt()).toBe(0);
    expect(await sibling.recoverInDoubt()).toBe(0);
    expect(h.probe.tokenRequests).toBe(1);

    // At the horizon one retry with the same token: a leeway reuse of the previous token, which
    // both waiting requests get.
    sim.clock.advance(1);
    const [mine, theirs] = await Promise.all(waiting);
    expect(mine.accessToken).toBe(theirs.accessToken);
    expect(h.probe.secrets.has(mine.accessToken)).toBe(true);
    expect(sim.stats()).toMatchObject({ tokenRequests: 2, rotations: 1, leewayReuses: 1, revocations: 0 });
    expect((await h.manager.status(h.user))?.state).toBe('active');

    // The stored refresh token is the server's current one: the next rotation is an ordinary one.
    h.expire();
    await expect(sibling.getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
    expect(tokens.presented.map((p) => p.status)).toEqual(['current', 'previous', 'current']);
    expect(sim.stats()).toMatchObject({
      tokenRequests: 3,
      rotations: 2,
      leewayReuses: 1,
      revocations: 0,
      families: { revoked: 0 },
    });
  });

  test('a request that can still find the connection refused is retried at once, with one request reaching the server', async () => {
    // A port that refuses connections, opened (to the same simulator) right after the first refusal.
    const closed: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    let refused = 0;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      try {
        return await h!.probe.fetch(input, init);
      } catch (error) {
        if (refused++ === 0) {
          extraServer = h!.server.sim.app.listen(port, '127.0.0.1');
          await once(extraServer, 'listening');
        }
        throw error;
      }
    };
    h = await createHarness('memory', { tokenUrl: `http://127.0.0.1:${port}/oauth/token`, fetch });
    await h.consent();
    h.expire();

    await expect(h.manager.getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
    expect(refused).toBe(1);
    expect(h.probe.tokenRequests).toBe(2);
    expect(h.server.sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, revocations: 0 });
    expect(h.logger.events('in_doubt')).toHaveLength(0);
    expect((await h.manager.status(h.user))?.state).toBe('active');
  });

  test('a 500 ended the exchange: the holder retries at once, with exact token requests and no horizon', async () => {
    h = await createHarness('memory');
    const { sim } = h.server;
    await h.consent();
    sim.scriptOutcomes(['server_error']);
    h.expire();

    await expect(h.manager.getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
    expect(h.probe.tokenRequests).toBe(2);
    expect(sim.stats()).toMatchObject({ tokenRequests: 2, rotations: 1, leewayReuses: 0, revocations: 0 });
    expect(h.logger.events('in_doubt')).toHaveLength(0);
    expect((await h.manager.status(h.user))?.state).toBe('active');
  });

  test('a 500 on every attempt: in doubt without a horizon; the request waits, and a sweep retries at once', async () => {
    h = await createHarness('memory');
    const { sim } = h.server;
    await h.consent();
    sim.scriptOutcomes(['server_error', 'server_error']);
    h.expire();

    // The request does not answer 503: its next attempt is paced by inDoubtRetryMs, inside its
    // wait budget, so it waits for the recovery.
    const waiting = h.manager.getAccessToken(h.user);
    await h.logger.waitForEvent('riding_through');
    expect(sim.stats()).toMatchObject({ tokenRequests: 2, rotations: 0 });
    const { inDoubt } = (await h.manager.status(h.user)) as { inDoubt?: { retryNotBefore?: number } };
    expect(inDoubt?.retryNotBefore).toBeUndefined();
    // The pacing of request-driven retries, not a commit horizon, stands in the way: a sweep
    // retries at once, and the waiting request is served from it.
    expect(await h.manager.recoverInDoubt()).toBe(1);
    expect(h.probe.secrets.has((await waiting).accessToken)).toBe(true);
    expect(sim.stats()).toMatchObject({ tokenRequests: 3, rotations: 1, leewayReuses: 0, revocations: 0 });
    expect((await h.manager.status(h.user))?.state).toBe('active');
  });

  test.each([
    ['server_error_after_commit', 502, true],
    ['gateway_timeout', 504, false],
    ['gateway_timeout_after_commit', 504, true],
  ] as const)(
    "%s: a gateway's %i may still be followed by its upstream's commit, so nobody retries before the horizon",
    async (outcome, _status, committed) => {
      h = await createHarness('memory');
      const sibling = h.sibling();
      const { sim } = h.server;
      await h.consent();
      sim.scriptOutcomes([outcome]);
      h.expire();

      expect((await unavailable(h.manager, h.user)).retryAfterSeconds).toBe(HORIZON_MS / 1000);
      expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: committed ? 1 : 0 });
      expect(h.logger.events('in_doubt').map((e) => e.obj.reason)).toEqual(['server_error']);

      // 1 ms before the horizon a request waits for it (rides through); nobody sends anything.
      sim.clock.advance(HORIZON_MS - 1);
      const waiting = h.manager.getAccessToken(h.user);
      await h.logger.waitForEvent('riding_through');
      expect(await h.manager.recoverInDoubt()).toBe(0);
      expect(await sibling.recoverInDoubt()).toBe(0);
      expect(sim.stats().tokenRequests).toBe(1);

      // At the horizon one retry with the same token: a leeway reuse if the first one committed.
      sim.clock.advance(1);
      expect(h.probe.secrets.has((await waiting).accessToken)).toBe(true);
      expect(sim.stats()).toMatchObject({
        tokenRequests: 2,
        rotations: 1,
        leewayReuses: committed ? 1 : 0,
        revocations: 0,
      });
      expect((await h.manager.status(h.user))?.state).toBe('active');
    },
  );
});
