// Rotation rules over HTTP: rotation, the previous token's leeway, reuse detection, revocation.

import request from 'supertest';
import { createSimulator, type TokenResponseBody } from '../../sim';
import { CLIENT, consentWithRefreshToken, refresh, rotate } from './helpers';

const LEEWAY = 10 * 60 * 1000;
const DEAD = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };

describe('refresh_token rotation', () => {
  it('rotates: new tokens, the used one becomes previous, one rotation counted', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const res = await refresh(sim.app, rt0).expect(200);
    const body = res.body as TokenResponseBody;
    expect(body).toMatchObject({
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'read:jira-work read:jira-user read:me offline_access',
    });
    expect(body.refresh_token).not.toBe(rt0);
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.refreshTokenStatus(body.refresh_token as string)).toBe('current');
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 1, leewayReuses: 0, revocations: 0 });
  });

  it('accepts a form-encoded refresh', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const res = await request(sim.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', ...CLIENT, refresh_token: rt0 })
      .expect(200);
    expect(sim.refreshTokenStatus(res.body.refresh_token)).toBe('current');
  });

  it('reuse of the previous token inside the leeway issues new tokens and retires the lost one', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const lost = await rotate(sim.app, rt0);
    sim.clock.advance(LEEWAY - 1);
    const recovered = await rotate(sim.app, rt0);
    expect(recovered).not.toBe(lost);
    expect(sim.refreshTokenStatus(lost)).toBe('retired');
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.refreshTokenStatus(recovered)).toBe('current');
    expect(sim.stats()).toMatchObject({
      rotations: 1,
      leewayReuses: 1,
      revocations: 0,
      families: { active: 1 },
    });
    // The chain goes on from the recovered token.
    const next = await rotate(sim.app, recovered);
    expect(sim.refreshTokenStatus(next)).toBe('current');
    expect(sim.refreshTokenStatus(rt0)).toBe('retired');
  });

  it('does not restart the leeway on a leeway reuse', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    await rotate(sim.app, rt0);
    sim.clock.advance(LEEWAY - 1000);
    await rotate(sim.app, rt0);
    sim.clock.advance(1000);
    expect((await refresh(sim.app, rt0).expect(403)).body).toEqual(DEAD);
    expect(sim.stats()).toMatchObject({ leewayReuses: 1, revocations: 1 });
  });

  it('reuse of the previous token at the end of the leeway revokes the whole family', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const rt1 = await rotate(sim.app, rt0);
    sim.clock.advance(LEEWAY);
    expect((await refresh(sim.app, rt0).expect(403)).body).toEqual(DEAD);
    expect(sim.refreshTokenStatus(rt1)).toBe('revoked');
    expect(sim.refreshTokenStatus(rt0)).toBe('revoked');
    expect((await refresh(sim.app, rt1).expect(403)).body).toEqual(DEAD);
    expect(sim.stats()).toMatchObject({
      rotations: 1,
      revocations: 1,
      invalidGrant: 2,
      families: { active: 0, revoked: 1 },
    });
  });

  it('reuse of an older token revokes the family, even inside the leeway', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const rt1 = await rotate(sim.app, rt0);
    const rt2 = await rotate(sim.app, rt1);
    expect(sim.refreshTokenStatus(rt0)).toBe('retired');
    await refresh(sim.app, rt0).expect(403);
    expect(sim.refreshTokenStatus(rt2)).toBe('revoked');
    await refresh(sim.app, rt2).expect(403);
    expect(sim.stats()).toMatchObject({ rotations: 2, revocations: 1, invalidGrant: 2 });
  });

  it('reuse of a retired lost token revokes the family', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const lost = await rotate(sim.app, rt0);
    const recovered = await rotate(sim.app, rt0);
    await refresh(sim.app, lost).expect(403);
    expect(sim.refreshTokenStatus(recovered)).toBe('revoked');
  });

  it('answers invalid_grant to an unknown token without touching any family', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    expect((await refresh(sim.app, 'not-a-token').expect(403)).body).toEqual(DEAD);
    expect(sim.refreshTokenStatus('not-a-token')).toBe('unknown');
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({
      invalidGrant: 1,
      revocations: 0,
      families: { active: 1, revoked: 0 },
    });
  });

  it('keeps families apart: a revocation of one leaves another of the same account alive', async () => {
    const sim = createSimulator();
    const first = consentWithRefreshToken(sim).refresh_token;
    const second = consentWithRefreshToken(sim).refresh_token;
    const firstNext = await rotate(sim.app, first);
    await rotate(sim.app, firstNext);
    await refresh(sim.app, first).expect(403);
    expect(sim.refreshTokenStatus(second)).toBe('current');
    await refresh(sim.app, second).expect(200);
    expect(sim.stats().families).toEqual({ active: 1, revoked: 1 });
  });

  it('serializes a burst: N parallel refreshes with one token make one rotation and N-1 leeway reuses', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(sim.app, rt0)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 4, revocations: 0 });
    const current = answers.filter((r) => sim.refreshTokenStatus(r.body.refresh_token) === 'current');
    expect(current).toHaveLength(1);
  });
});
