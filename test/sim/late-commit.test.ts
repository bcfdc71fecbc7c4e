// The scripted late commit: a refresh held in front of the server commits after its delay, whatever
// its client did meanwhile, and a retry sent before it forks the chain into a revocation.

import request from 'supertest';
import { createSimulator, type Simulator } from '../../sim';
import { consentWithRefreshToken, listen, refresh, refreshBody, until } from './helpers';

let sim: Simulator;
let server: { url: string; close(): Promise<void> } | undefined;

beforeEach(() => {
  sim = createSimulator();
});

afterEach(async () => {
  sim.close();
  await server?.close();
  server = undefined;
});

function postToken(url: string, body: string, signal?: AbortSignal) {
  return fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal,
  });
}

/** Sends a refresh that the sim holds, waits until it is held, then abandons it as a timed-out client would. */
async function abandonHeldRefresh(refreshToken: string): Promise<void> {
  const client = new AbortController();
  const pending = postToken(server!.url, refreshBody(refreshToken), client.signal);
  await until(() => sim.stats().chaos.lateCommits === 1);
  client.abort();
  await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
}

describe('commit_late on the sim clock', () => {
  it('commits exactly when the sim clock reaches the delay, after its client gave up', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 12_000, clock: 'sim' }]);
    await abandonHeldRefresh(rt0);
    sim.clock.advance(11_999);
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0 });
    sim.clock.advance(1);
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, revocations: 0 });
  });

  it('answers a client that still waits once it commits', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 5_000, clock: 'sim' }]);
    const pending = postToken(server.url, refreshBody(rt0));
    await until(() => sim.stats().chaos.lateCommits === 1);
    sim.clock.advance(5_000);
    const res = await pending;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { refresh_token: string };
    expect(sim.refreshTokenStatus(body.refresh_token)).toBe('current');
  });

  it('a retry sent before the late commit forks the chain: the stored token is revoked next time', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 12_000, clock: 'sim' }]);
    await abandonHeldRefresh(rt0);
    // The client's immediate retry with the same token rotates it; the client stores rt1.
    const retried = await postToken(server.url, refreshBody(rt0));
    const { refresh_token: rt1 } = (await retried.json()) as { refresh_token: string };
    // The held request arrives with rt0, the previous token inside the leeway: it retires rt1.
    sim.clock.advance(12_000);
    expect(sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, revocations: 0 });
    expect(sim.refreshTokenStatus(rt1)).toBe('retired');
    // Only the immediately previous token is tolerated: rt1 revokes the family.
    await refresh(sim.app, rt1).expect(403);
    expect(sim.stats()).toMatchObject({ revocations: 1, families: { revoked: 1 } });
  });

  it('a retry sent after the late commit is a leeway reuse, and the chain lives on', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 12_000, clock: 'sim' }]);
    await abandonHeldRefresh(rt0);
    sim.clock.advance(60_000);
    const retried = await postToken(server.url, refreshBody(rt0));
    const { refresh_token: rt2 } = (await retried.json()) as { refresh_token: string };
    expect(sim.refreshTokenStatus(rt2)).toBe('current');
    const next = await postToken(server.url, refreshBody(rt2));
    expect(next.status).toBe(200);
    expect(sim.stats()).toMatchObject({ rotations: 2, leewayReuses: 1, revocations: 0 });
  });

  it('close() cancels a late commit not yet made', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 1_000, clock: 'sim' }]);
    await abandonHeldRefresh(rt0);
    sim.close();
    sim.clock.advance(1_000);
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
  });
});

describe('commit_late on a real timer', () => {
  it('commits after the real delay and answers the waiting client', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes([{ outcome: 'commit_late', delayMs: 30 }]);
    const res = await postToken(server.url, refreshBody(rt0));
    expect(res.status).toBe(200);
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { lateCommits: 1 } });
  });
});

describe('scripting a late commit', () => {
  it('mixes with plain outcomes over HTTP, in order', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    await request(sim.app)
      .post('/script')
      .send({ outcomes: ['server_error', { outcome: 'commit_late', delayMs: 0, clock: 'sim' }] })
      .expect(200, { pending: 2 });
    await refresh(sim.app, rt0).expect(500);
    const held = refresh(sim.app, rt0).then((res) => res.status);
    await until(() => sim.stats().chaos.lateCommits === 1);
    expect(sim.stats().rotations).toBe(0);
    sim.clock.advance(0);
    await expect(held).resolves.toBe(200);
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { serverErrors: 1, lateCommits: 1 } });
  });

  it.each([
    [{ outcome: 'commit_late' }],
    [{ outcome: 'commit_late', delayMs: -1 }],
    [{ outcome: 'commit_late', delayMs: 3_600_001 }],
    [{ outcome: 'commit_late', delayMs: 5, clock: 'wall' }],
    [{ outcome: 'commit_late', delayMs: 5, extra: true }],
    [{ outcome: 'hang', delayMs: 5 }],
  ])('refuses %j', async (step) => {
    await request(sim.app)
      .post('/script')
      .send({ outcomes: [step] })
      .expect(400);
    expect(() => sim.scriptOutcomes([step as never])).toThrow(RangeError);
  });
});
