// The control endpoints: stats, clock, chaos and script over HTTP, input validation and the JSON 404.

import express from 'express';
import request from 'supertest';
import { createSimulator } from '../../sim';
import { consentWithRefreshToken, refresh, rotate } from './helpers';

describe('stats', () => {
  it('counts every kind of answer and resets counters but not families', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0, access_token: at } = consentWithRefreshToken(sim);
    const rt1 = await rotate(sim.app, rt0);
    await rotate(sim.app, rt0);
    await refresh(sim.app, rt1).expect(403);
    await request(sim.app)
      .post('/oauth/token')
      .send({ grant_type: 'refresh_token', client_id: 'x', client_secret: 'y', refresh_token: 'z' });
    await request(sim.app).get('/me').auth(at, { type: 'bearer' });
    await request(sim.app).get('/me').auth('bad', { type: 'bearer' });
    const expected = {
      tokenRequests: 4,
      rotations: 1,
      leewayReuses: 1,
      revocations: 1,
      invalidGrant: 1,
      invalidClient: 1,
      codeExchanges: 0,
      apiRequests: 2,
      apiUnauthorized: 1,
      chaos: { serverErrors: 0, timeouts: 0, drops: 0, missingRefreshTokens: 0, lateCommits: 0 },
      personalData: {
        reports: 0,
        accountsReported: 0,
        closedAnswers: 0,
        updatedAnswers: 0,
        throttled: 0,
        rejected: 0,
      },
      families: { active: 0, revoked: 1 },
    };
    expect(sim.stats()).toEqual(expected);
    expect((await request(sim.app).get('/stats').expect(200)).body).toEqual(expected);
    const reset = await request(sim.app).post('/stats/reset').expect(200);
    expect(reset.body).toEqual({
      ...expected,
      tokenRequests: 0,
      rotations: 0,
      leewayReuses: 0,
      revocations: 0,
      invalidGrant: 0,
      invalidClient: 0,
      apiRequests: 0,
      apiUnauthorized: 0,
    });
    sim.resetStats();
    expect(sim.stats().families).toEqual({ active: 0, revoked: 1 });
  });

  it('returns snapshots that later activity does not change', async () => {
    const sim = createSimulator();
    const before = sim.stats();
    await refresh(sim.app, 'x');
    expect(before.invalidGrant).toBe(0);
    expect(sim.stats().invalidGrant).toBe(1);
  });
});

describe('clock', () => {
  it('reads, advances and sets the sim clock', async () => {
    const sim = createSimulator({ startTime: 1_700_000_000_000 });
    expect((await request(sim.app).get('/clock').expect(200)).body).toEqual({ now: 1_700_000_000_000 });
    const advanced = await request(sim.app).post('/clock/advance').send({ ms: 600_000 }).expect(200);
    expect(advanced.body).toEqual({ now: 1_700_000_600_000 });
    expect(sim.clock.now()).toBe(1_700_000_600_000);
    await request(sim.app).post('/clock/set').send({ now: 5 }).expect(200, { now: 5 });
    sim.clock.advance(10);
    expect(sim.clock.now()).toBe(15);
  });

  it.each([[{}], [{ ms: -1 }], [{ ms: '5' }], [{ ms: null }]])('refuses advance %j', async (body) => {
    const sim = createSimulator({ startTime: 0 });
    const res = await request(sim.app).post('/clock/advance').send(body).expect(400);
    expect(res.body.error).toBe('invalid_request');
    expect(sim.clock.now()).toBe(0);
  });

  it('refuses a non-object or malformed body', async () => {
    const sim = createSimulator();
    await request(sim.app).post('/clock/advance').send([1]).expect(400);
    await request(sim.app)
      .post('/clock/advance')
      .type('json')
      .send('{')
      .expect(400, { code: 400, message: 'Bad Request' });
  });

  it('moves the access-token expiry: advancing over HTTP expires tokens', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    await request(sim.app).post('/clock/advance').send({ ms: 3_600_000 }).expect(200);
    await request(sim.app).get('/me').auth(at, { type: 'bearer' }).expect(401);
  });
});

describe('chaos and script over HTTP', () => {
  it('merges chaos settings and returns them', async () => {
    const sim = createSimulator();
    await request(sim.app).post('/chaos').send({ latencyMs: 3 }).expect(200);
    const res = await request(sim.app).post('/chaos').send({ serverErrorRate: 0.1 }).expect(200);
    expect(res.body).toEqual({ ...sim.chaos(), latencyMs: 3, serverErrorRate: 0.1 });
    expect((await request(sim.app).get('/chaos').expect(200)).body).toEqual(res.body);
  });

  it('refuses invalid chaos settings without changing anything', async () => {
    const sim = createSimulator();
    const res = await request(sim.app).post('/chaos').send({ timeoutRate: 2 }).expect(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: 'timeoutRate must be at most 1' });
    await request(sim.app).post('/chaos').send({ nope: 0 }).expect(400);
    expect(sim.chaos().timeoutRate).toBe(0);
  });

  it('queues scripted outcomes', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    await request(sim.app)
      .post('/script')
      .send({ outcomes: ['server_error'] })
      .expect(200, { pending: 1 });
    await refresh(sim.app, rt0).expect(500);
  });

  it.each([[{}], [{ outcomes: 'ok' }], [{ outcomes: ['ok', 'boom'] }]])('refuses script %j', async (body) => {
    const sim = createSimulator();
    await request(sim.app).post('/script').send(body).expect(400);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    await refresh(sim.app, rt0).expect(200);
  });
});

describe('anything else', () => {
  it('answers a JSON 404, mounted or not', async () => {
    const sim = createSimulator();
    await request(sim.app).get('/rest/api/3/search').expect(404, { code: 404, message: 'Not Found' });
    const host = express().use('/sim', sim.app);
    await request(host).get('/sim/nope').expect(404, { code: 404, message: 'Not Found' });
    await request(host).get('/sim/stats').expect(200);
  });
});
