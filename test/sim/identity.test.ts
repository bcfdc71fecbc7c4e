// GET /me and accessible-resources: Bearer checks, scope, and a site order callers cannot rely on.

import request from 'supertest';
import { createSimulator, DEFAULT_SITES } from '../../sim';
import { consentWithRefreshToken, refresh, rotate } from './helpers';

const UNAUTHORIZED = { code: 401, message: 'Unauthorized' };

describe('GET /me', () => {
  it('describes the consenting account', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-2');
    const res = await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(200);
    expect(res.body).toEqual({
      account_id: 'sim-user-2',
      email: 'sim-user-2@example.com',
      name: 'Sim User Two',
      picture: expect.stringMatching(/^https:\/\//),
      account_status: 'active',
    });
    expect(sim.stats()).toMatchObject({ apiRequests: 1, apiUnauthorized: 0 });
  });

  it('answers 401 to a missing, malformed or unknown token', async () => {
    const sim = createSimulator();
    expect((await request(sim.app).get('/me').expect(401)).body).toEqual(UNAUTHORIZED);
    await request(sim.app).get('/me').set('Authorization', 'Basic abc').expect(401);
    await request(sim.app).get('/me').auth('nope', { type: 'bearer' }).expect(401);
    expect(sim.stats()).toMatchObject({ apiRequests: 3, apiUnauthorized: 3 });
  });

  it('needs read:me', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1', 'read:jira-work offline_access');
    const res = await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(401);
    expect(res.body).toEqual({ code: 401, message: 'Unauthorized; scope does not match' });
    expect(sim.stats().apiUnauthorized).toBe(1);
  });

  it('keeps accepting an access token of a revoked family until it expires', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0, access_token: at } = consentWithRefreshToken(sim);
    const rt1 = await rotate(sim.app, rt0);
    await rotate(sim.app, rt1);
    await refresh(sim.app, rt0).expect(403);
    expect(sim.stats().families.revoked).toBe(1);
    await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(200);
    sim.clock.advance(3600 * 1000);
    await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(401);
  });
});

describe('GET /oauth/token/accessible-resources', () => {
  it('lists the account sites, not in configuration order', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-2');
    const res = await request(sim.app)
      .get('/oauth/token/accessible-resources')
      .auth(at, { type: 'bearer' })
      .expect(200);
    expect(res.body).toEqual([DEFAULT_SITES[1], DEFAULT_SITES[0]]);
  });

  it('lists only the sites the account reaches', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const res = await request(sim.app)
      .get('/oauth/token/accessible-resources')
      .auth(at, { type: 'bearer' })
      .expect(200);
    expect(res.body.map((s: { url: string }) => s.url)).toEqual(['https://sandbox.atlassian.net']);
  });

  it('answers 401 to an expired token', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    sim.clock.advance(3600 * 1000);
    const res = await request(sim.app)
      .get('/oauth/token/accessible-resources')
      .auth(at, { type: 'bearer' })
      .expect(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });
});
