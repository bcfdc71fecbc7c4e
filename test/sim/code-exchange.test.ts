// The authorization_code grant, request validation and client authentication of POST /oauth/token.

import request from 'supertest';
import { CODE_TTL_MS, createSimulator, type Simulator, type TokenResponseBody } from '../../sim';
import { CLIENT } from './helpers';

const REDIRECT = 'https://app.example.com/callback';
const INVALID_GRANT = { error: 'invalid_grant', error_description: 'Invalid authorization code' };

async function authorize(sim: Simulator, scope = 'read:jira-work read:me offline_access'): Promise<string> {
  const res = await request(sim.app).post('/authorize').type('form').send({
    audience: 'api.atlassian.com',
    client_id: CLIENT.client_id,
    scope,
    redirect_uri: REDIRECT,
    state: 's',
    response_type: 'code',
    account_id: 'sim-user-2',
    decision: 'accept',
  });
  return new URL(res.headers.location).searchParams.get('code') as string;
}

function exchange(sim: Simulator, code: string, redirectUri = REDIRECT) {
  return request(sim.app)
    .post('/oauth/token')
    .send({ grant_type: 'authorization_code', ...CLIENT, code, redirect_uri: redirectUri });
}

describe('authorization_code grant', () => {
  it('exchanges a code for tokens and starts a family', async () => {
    const sim = createSimulator();
    const res = await exchange(sim, await authorize(sim)).expect(200);
    const body = res.body as TokenResponseBody;
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(body).toMatchObject({
      expires_in: 3600,
      scope: 'read:jira-work read:me offline_access',
      token_type: 'Bearer',
    });
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(sim.refreshTokenStatus(body.refresh_token as string)).toBe('current');
    expect(sim.stats()).toMatchObject({
      tokenRequests: 1,
      codeExchanges: 1,
      families: { active: 1, revoked: 0 },
    });
    const me = await request(sim.app).get('/me').auth(body.access_token, { type: 'bearer' }).expect(200);
    expect(me.body.account_id).toBe('sim-user-2');
  });

  it('accepts a form-encoded body as well as JSON', async () => {
    const sim = createSimulator();
    const code = await authorize(sim);
    const res = await request(sim.app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'authorization_code', ...CLIENT, code, redirect_uri: REDIRECT })
      .expect(200);
    expect(typeof res.body.refresh_token).toBe('string');
  });

  it('refuses a second exchange of the same code', async () => {
    const sim = createSimulator();
    const code = await authorize(sim);
    await exchange(sim, code).expect(200);
    const res = await exchange(sim, code).expect(403);
    expect(res.body).toEqual(INVALID_GRANT);
    expect(sim.stats()).toMatchObject({ codeExchanges: 1, invalidGrant: 1, families: { active: 1 } });
  });

  it('refuses a different redirect_uri without consuming the code', async () => {
    const sim = createSimulator();
    const code = await authorize(sim);
    const res = await exchange(sim, code, 'https://evil.example/callback').expect(403);
    expect(res.body).toEqual(INVALID_GRANT);
    await exchange(sim, code).expect(200);
  });

  it('refuses a code at its 10-minute expiry, and accepts it one millisecond before', async () => {
    const sim = createSimulator();
    const late = await authorize(sim);
    const inTime = await authorize(sim);
    sim.clock.advance(CODE_TTL_MS - 1);
    await exchange(sim, inTime).expect(200);
    sim.clock.advance(1);
    expect((await exchange(sim, late).expect(403)).body).toEqual(INVALID_GRANT);
  });

  it('refuses an unknown code', async () => {
    const sim = createSimulator();
    expect((await exchange(sim, 'made-up').expect(403)).body).toEqual(INVALID_GRANT);
    expect(sim.stats().invalidGrant).toBe(1);
  });

  it('issues no refresh token and no family without offline_access', async () => {
    const sim = createSimulator();
    const res = await exchange(sim, await authorize(sim, 'read:me read:jira-work')).expect(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.scope).toBe('read:me read:jira-work');
    expect(sim.stats().families).toEqual({ active: 0, revoked: 0 });
    await request(sim.app).get('/me').auth(res.body.access_token, { type: 'bearer' }).expect(200);
  });
});

describe('token request validation', () => {
  it('answers invalid_client (401) on a wrong secret and touches no family', async () => {
    const sim = createSimulator();
    const { refresh_token: rt } = sim.consent('sim-user-1');
    const res = await request(sim.app)
      .post('/oauth/token')
      .send({
        grant_type: 'refresh_token',
        client_id: CLIENT.client_id,
        client_secret: 'wrong',
        refresh_token: rt,
      })
      .expect(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
    expect(sim.refreshTokenStatus(rt as string)).toBe('current');
    expect(sim.stats()).toMatchObject({ invalidClient: 1, invalidGrant: 0, rotations: 0, tokenRequests: 1 });
  });

  it('answers invalid_client on a wrong client_id, even for a bad code', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .post('/oauth/token')
      .send({
        grant_type: 'authorization_code',
        client_id: 'x',
        client_secret: CLIENT.client_secret,
        code: 'c',
        redirect_uri: REDIRECT,
      })
      .expect(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it.each([
    [{}, 'invalid_request', 'Missing required parameter: grant_type'],
    [{ grant_type: 'password', ...CLIENT }, 'unsupported_grant_type', 'Unsupported grant type.'],
    [
      { grant_type: 'refresh_token', client_id: CLIENT.client_id },
      'invalid_request',
      'Missing required parameter: client_secret',
    ],
    [
      { grant_type: 'refresh_token', client_secret: 's' },
      'invalid_request',
      'Missing required parameter: client_id',
    ],
    [
      { grant_type: 'refresh_token', ...CLIENT },
      'invalid_request',
      'Missing required parameter: refresh_token',
    ],
    [
      { grant_type: 'authorization_code', ...CLIENT, redirect_uri: REDIRECT },
      'invalid_request',
      'Missing required parameter: code',
    ],
    [
      { grant_type: 'authorization_code', ...CLIENT, code: 'c' },
      'invalid_request',
      'Missing required parameter: redirect_uri',
    ],
    [
      { grant_type: 'refresh_token', ...CLIENT, refresh_token: 42 },
      'invalid_request',
      'Every parameter must be a string.',
    ],
  ])('answers 400 for %j', async (body, error, description) => {
    const sim = createSimulator();
    const res = await request(sim.app).post('/oauth/token').send(body).expect(400);
    expect(res.body).toEqual({ error, error_description: description });
  });

  it('answers 400 invalid_request to malformed JSON and 413 to a body over 16kb', async () => {
    const sim = createSimulator();
    const bad = await request(sim.app).post('/oauth/token').type('json').send('{"grant_type":').expect(400);
    expect(bad.body).toEqual({ error: 'invalid_request', error_description: 'Malformed request body.' });
    const big = await request(sim.app)
      .post('/oauth/token')
      .send({ grant_type: 'refresh_token', ...CLIENT, refresh_token: 'x'.repeat(17 * 1024) })
      .expect(413);
    expect(big.body.error).toBe('invalid_request');
    expect(sim.stats().tokenRequests).toBe(2);
  });

  it('refuses a repeated form field', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .post('/oauth/token')
      .type('form')
      .send('grant_type=refresh_token&grant_type=refresh_token&client_id=a&client_secret=b&refresh_token=c')
      .expect(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
