// Time rules on the sim clock: inactivity and absolute expiry of families, access-token lifetime.

import request from 'supertest';
import { createSimulator } from '../../sim';
import { consentWithRefreshToken, refresh, rotate } from './helpers';

const DAY = 24 * 60 * 60 * 1000;
const DEAD = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };

describe('family expiry', () => {
  it('expires a family after 90 days without a refresh, without revoking it', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.clock.advance(90 * DAY + 1);
    expect((await refresh(sim.app, rt0).expect(403)).body).toEqual(DEAD);
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({
      invalidGrant: 1,
      revocations: 0,
      families: { active: 0, revoked: 0 },
    });
  });

  it('accepts a refresh at exactly 90 days of inactivity', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.clock.advance(90 * DAY);
    await refresh(sim.app, rt0).expect(200);
  });

  it('resets the inactivity window on every refresh', async () => {
    const sim = createSimulator();
    let rt = consentWithRefreshToken(sim).refresh_token;
    for (let i = 0; i < 3; i += 1) {
      sim.clock.advance(80 * DAY);
      rt = await rotate(sim.app, rt);
    }
    expect(sim.stats()).toMatchObject({ rotations: 3, families: { active: 1 } });
  });

  it('expires a family 365 days after consent however active it is', async () => {
    const sim = createSimulator();
    let rt = consentWithRefreshToken(sim).refresh_token;
    for (let i = 0; i < 4; i += 1) {
      sim.clock.advance(80 * DAY);
      rt = await rotate(sim.app, rt);
    }
    sim.clock.advance(365 * DAY - 4 * 80 * DAY);
    rt = await rotate(sim.app, rt);
    sim.clock.advance(1);
    expect((await refresh(sim.app, rt).expect(403)).body).toEqual(DEAD);
    expect(sim.stats()).toMatchObject({ rotations: 5, revocations: 0, families: { active: 0, revoked: 0 } });
  });

  it('honours configured lifetimes', async () => {
    const sim = createSimulator({ inactivityMs: 1000, absoluteLifetimeMs: 2500 });
    let rt = consentWithRefreshToken(sim).refresh_token;
    sim.clock.advance(1000);
    rt = await rotate(sim.app, rt);
    sim.clock.advance(1000);
    rt = await rotate(sim.app, rt);
    sim.clock.advance(501);
    await refresh(sim.app, rt).expect(403);
    const idle = consentWithRefreshToken(sim).refresh_token;
    sim.clock.advance(1001);
    await refresh(sim.app, idle).expect(403);
    expect(sim.stats()).toMatchObject({ rotations: 2, invalidGrant: 2, revocations: 0 });
  });
});

describe('access token lifetime', () => {
  it('accepts an access token until expires_in seconds on the sim clock, then answers 401', async () => {
    const sim = createSimulator({ accessTokenTtlSeconds: 60 });
    const { access_token: at, expires_in: ttl } = sim.consent('sim-user-1');
    expect(ttl).toBe(60);
    sim.clock.advance(59_999);
    await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(200);
    sim.clock.advance(1);
    const res = await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(401);
    expect(res.body).toEqual({ code: 401, message: 'Unauthorized' });
  });
});
