// The authorize endpoint: validation, the consent page (escaped, prefix-aware) and the accept/deny redirects.

import express from 'express';
import request from 'supertest';
import { createSimulator } from '../../sim';
import { CLIENT } from './helpers';

const VALID = {
  audience: 'api.atlassian.com',
  client_id: CLIENT.client_id,
  scope: 'read:jira-work read:me offline_access',
  redirect_uri: 'https://app.example.com/callback',
  state: 'st-123',
  response_type: 'code',
  prompt: 'consent',
};

function form(overrides: Record<string, string> = {}) {
  const { prompt: _prompt, ...fields } = VALID;
  return { ...fields, account_id: 'sim-user-1', decision: 'accept', ...overrides };
}

describe('GET /authorize', () => {
  it('shows a consent form posting back to /authorize with every param hidden and the first account selected', async () => {
    const sim = createSimulator();
    const res = await request(sim.app).get('/authorize').query(VALID).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toContain('<form method="post" action="/authorize">');
    expect(res.text).toContain('<input type="hidden" name="client_id" value="sim-client-id">');
    expect(res.text).toContain(
      '<input type="hidden" name="redirect_uri" value="https://app.example.com/callback">',
    );
    expect(res.text).toContain('<input type="hidden" name="state" value="st-123">');
    expect(res.text).toContain(
      '<input type="hidden" name="scope" value="read:jira-work read:me offline_access">',
    );
    expect(res.text).toContain('<select name="account_id" id="account_id">');
    expect(res.text).toContain('<option value="sim-user-1" selected>');
    expect(res.text).toContain('<option value="sim-user-2">');
    expect(res.text).toContain(
      '<button type="submit" name="decision" value="accept" data-action="accept">Accept</button>',
    );
    expect(res.text).toContain('data-action="deny"');
  });

  it('preselects the account named by login_hint', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .get('/authorize')
      .query({ ...VALID, login_hint: 'sim-user-2' })
      .expect(200);
    expect(res.text).toContain('<option value="sim-user-2" selected>');
    expect(res.text).toContain('<option value="sim-user-1">');
  });

  it('escapes a hostile state and redirect_uri', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .get('/authorize')
      .query({ ...VALID, state: '"><script>alert(1)</script>', redirect_uri: 'https://a.example/?x="<b>' })
      .expect(200);
    expect(res.text).not.toContain('<script>');
    expect(res.text).not.toContain('<b>');
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(res.text).toContain('value="https://a.example/?x=&quot;&lt;b&gt;"');
  });

  it('says so when the scope has no offline_access', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .get('/authorize')
      .query({ ...VALID, scope: 'read:me' })
      .expect(200);
    expect(res.text).toContain('Without <code>offline_access</code> the app gets no refresh token.');
  });

  it.each([
    ['an unknown client_id', { client_id: 'someone-else' }, 'Unknown client_id.'],
    ['a wrong audience', { audience: 'example.com' }, 'The audience must be api.atlassian.com.'],
    ['response_type token', { response_type: 'token' }, 'The response_type must be code.'],
    ['a missing redirect_uri', { redirect_uri: '' }, 'The redirect_uri must be an absolute http(s) URL'],
    ['a javascript: redirect_uri', { redirect_uri: 'javascript:alert(1)' }, 'The redirect_uri must be'],
    [
      'a redirect_uri with a fragment',
      { redirect_uri: 'https://a.example/cb#x' },
      'The redirect_uri must be',
    ],
    ['a missing scope', { scope: ' ' }, 'The scope is missing.'],
  ])('answers 400 HTML for %s', async (_name, overrides, message) => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .get('/authorize')
      .query({ ...VALID, ...overrides })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(message);
    expect(res.text).not.toContain('<form');
  });

  it('refuses a repeated parameter', async () => {
    const sim = createSimulator();
    const res = await request(sim.app).get('/authorize?state=a&state=b').query(VALID).expect(400);
    expect(res.text).toContain('The parameter state must appear once.');
  });

  it('builds the form action from the mount point', async () => {
    const sim = createSimulator();
    const host = express().use('/sim', sim.app);
    const res = await request(host).get('/sim/authorize').query(VALID).expect(200);
    expect(res.text).toContain('<form method="post" action="/sim/authorize">');
  });
});

describe('POST /authorize', () => {
  it('accepting redirects to redirect_uri with a code and the state', async () => {
    const sim = createSimulator();
    const res = await request(sim.app).post('/authorize').type('form').send(form()).expect(302);
    const location = new URL(res.headers.location);
    expect(`${location.origin}${location.pathname}`).toBe('https://app.example.com/callback');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps the query of the redirect_uri and works under a prefix', async () => {
    const sim = createSimulator();
    const host = express().use('/sim', sim.app);
    const res = await request(host)
      .post('/sim/authorize')
      .type('form')
      .send(form({ redirect_uri: 'http://localhost:3000/cb?tenant=t1' }))
      .expect(302);
    const location = new URL(res.headers.location);
    expect(location.searchParams.get('tenant')).toBe('t1');
    expect(location.searchParams.get('code')).not.toBeNull();
  });

  it('denying redirects with error=access_denied and the state, and no code', async () => {
    const sim = createSimulator();
    const res = await request(sim.app)
      .post('/authorize')
      .type('form')
      .send(form({ decision: 'deny' }))
      .expect(302);
    const location = new URL(res.headers.location);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('accepts the consent page form as a browser would submit it', async () => {
    const sim = createSimulator();
    const state = "a\"<b>&c 'd'";
    const page = await request(sim.app)
      .get('/authorize')
      .query({ ...VALID, state, login_hint: 'sim-user-2' })
      .expect(200);
    const unescape = (v: string) =>
      v.replace(
        /&(quot|lt|gt|#39|#96|amp);/g,
        (_m, e: string) => ({ quot: '"', lt: '<', gt: '>', '#39': "'", '#96': '`', amp: '&' })[e] as string,
      );
    const fields = Object.fromEntries(
      [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1],
        unescape(m[2]),
      ]),
    );
    const selected = /<option value="([^"]+)" selected>/.exec(page.text)?.[1] as string;
    const res = await request(sim.app)
      .post('/authorize')
      .type('form')
      .send({ ...fields, account_id: selected, decision: 'accept' })
      .expect(302);
    const location = new URL(res.headers.location);
    expect(location.searchParams.get('state')).toBe(state);
    const code = location.searchParams.get('code') as string;
    const token = await request(sim.app)
      .post('/oauth/token')
      .send({ grant_type: 'authorization_code', ...CLIENT, code, redirect_uri: VALID.redirect_uri })
      .expect(200);
    const me = await request(sim.app)
      .get('/me')
      .auth(token.body.access_token, { type: 'bearer' })
      .expect(200);
    expect(me.body.account_id).toBe('sim-user-2');
  });

  it('refuses an unknown account, an unknown decision and invalid params', async () => {
    const sim = createSimulator();
    const unknownAccount = await request(sim.app)
      .post('/authorize')
      .type('form')
      .send(form({ account_id: 'nobody' }))
      .expect(400);
    expect(unknownAccount.text).toContain('Unknown account.');
    const decision = await request(sim.app)
      .post('/authorize')
      .type('form')
      .send(form({ decision: 'maybe' }))
      .expect(400);
    expect(decision.text).toContain('Unknown decision.');
    await request(sim.app)
      .post('/authorize')
      .type('form')
      .send(form({ client_id: 'other' }))
      .expect(400);
  });
});
