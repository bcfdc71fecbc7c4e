// The consent router mounted in a plain express 4 app and a plain express 5 app (no body parsers,
// no Connect, a header-based user), against the simulator: a whole consent, and every way one
// must end without storing anything.

import {
  EXPRESS_MAJORS,
  EXPRESS_VERSIONS,
  OTHER_USER,
  type RouterHarness,
  TENANT,
  USER,
  nonceCookie,
  resultOf,
  startRouterHarness,
} from './router-harness';

test('the two apps are express 4 and express 5', () => {
  expect(EXPRESS_VERSIONS).toEqual([expect.stringMatching(/^4\./), expect.stringMatching(/^5\./)]);
});

describe.each(EXPRESS_MAJORS)('consentRouter on %s', (_name, express) => {
  let h: RouterHarness;
  beforeEach(async () => {
    h = await startRouterHarness(express);
  });
  afterEach(async () => {
    await h.close();
  });

  const expectFlowPage = (res: { headers: Record<string, unknown> }) => {
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toMatch(
      /^default-src 'none'; script-src 'self'; style-src 'sha256-[\w+/]+={0,2}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
  };
  const nothingStored = async (codeExchanges = 0) => {
    expect(await h.status(USER)).toBeNull();
    expect(await h.status(OTHER_USER)).toBeNull();
    expect(h.sim.sim.stats().codeExchanges).toBe(codeExchanges);
  };

  test("a whole consent: launch → connect → the simulator's consent page → callback → connected", async () => {
    const launched = await h.http().post('/jira/launch').set('x-user', USER).expect(200);
    expect(launched.headers['cache-control']).toBe('no-store');
    expect(Object.keys(launched.body)).toEqual(['launch']);
    const started = await h.http().post('/jira/connect').type('form').send({ launch: launched.body.launch });
    expect(started.status).toBe(303);
    expect(started.text).toBe('');
    expectFlowPage(started);
    const cookie = (started.headers['set-cookie'] as unknown as string[])[0];
    // The cookie's path is the callback's directory: it goes to the router's routes only.
    expect(cookie).toMatch(
      /^jtr-consent=[\w-]{43}; Max-Age=600; Path=\/jira\/; Expires=.*; HttpOnly; SameSite=Lax$/,
    );
    const authorizeUrl = new URL(started.headers.location as string);
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${h.sim.baseUrl}/authorize`);
    const state = authorizeUrl.searchParams.get('state')!;
    expect(state).toMatch(/^[\w-]{43}$/);
    expect(Object.fromEntries(authorizeUrl.searchParams)).toEqual({
      audience: 'api.atlassian.com',
      client_id: 'sim-client-id',
      scope: 'read:jira-work read:jira-user read:me offline_access',
      redirect_uri: `${h.base}/jira/callback`,
      state,
      response_type: 'code',
      prompt: 'consent',
    });
    // The simulator's consent page accepts these parameters, then redirects to the callback.
    const page = await fetch(authorizeUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-action="accept"');
    const callback = await h.decide(
      { res: started, authorizeUrl, state, cookie: nonceCookie(started) },
      USER,
    );
    expect(`${callback.origin}${callback.pathname}`).toBe(`${h.base}/jira/callback`);
    const result = await h
      .http()
      .get(`${callback.pathname}${callback.search}`)
      .set('cookie', nonceCookie(started));
    expect(result.status).toBe(200);
    expect(resultOf(result.text)).toBe('connected');
    expectFlowPage(result);
    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    // The page's only script is the router's helper, which reports to the opener.
    expect([...result.text.matchAll(/<script src="([^"]*)"/g)].map((m) => m[1])).toEqual(['consent.js']);
    expect(result.text).not.toContain(state);
    expect(h.sim.sim.stats()).toMatchObject({ codeExchanges: 1, rotations: 0, revocations: 0 });
    expect(await h.status(USER)).toMatchObject({
      state: 'active',
      site: { cloudId: 'a1b2c3d4-0001-4000-8000-000000000001', url: 'https://sandbox.atlassian.net' },
    });
    const status = await h.http().get('/jira/status').set('x-user', USER).expect(200);
    expect(status.headers['cache-control']).toBe('no-store');
    expect(status.body).toEqual({ connected: true, state: 'active', site: 'https://sandbox.atlassian.net' });
    expect(h.logger.events('consent_completed').map((e) => e.obj)).toEqual([
      {
        event: 'consent_completed',
        clientKey: TENANT,
        accountId: USER,
        cloudId: 'a1b2c3d4-0001-4000-8000-000000000001',
      },
    ]);
    // A replayed callback finds its state spent: no second exchange.
    const replay = await h
      .http()
      .get(`${callback.pathname}${callback.search}`)
      .set('cookie', nonceCookie(started));
    expect({ status: replay.status, result: resultOf(replay.text) }).toEqual({
      status: 400,
      result: 'expired',
    });
    expect(h.sim.sim.stats().codeExchanges).toBe(1);
    // Disconnect forgets the tokens.
    await h.http().post('/jira/disconnect').set('x-user', USER).expect(204);
    expect(await h.status(USER)).toBeNull();
    expect((await h.http().get('/jira/status').set('x-user', USER).expect(200)).body).toEqual({
      connected: false,
      state: 'not_connected',
    });
    expect(h.errors).toEqual([]);
  });

  test('a consent by another Atlassian account stores nothing: 403 wrong_account', async () => {
    const res = await h.connect(USER, { consentAs: OTHER_USER });
    expect({ status: res.status, result: resultOf(res.text) }).toEqual({
      status: 403,
      result: 'wrong_account',
    });
    // The code was exchanged (that is how the account is known), and nothing was saved.
    await nothingStored(1);
    expect(h.logger.events('consent_refused').map((e) => e.obj)).toEqual([
      { event: 'consent_refused', clientKey: TENANT, accountId: USER, reason: 'wrong_account' },
    ]);
  });

  test('a denied consent: 200 denied, no code exchanged, nothing stored', async () => {
    const res = await h.connect(USER, { decision: 'deny' });
    expect({ status: res.status, result: resultOf(res.text) }).toEqual({ status: 200, result: 'denied' });
    await nothingStored();
    expect(h.sim.sim.stats().tokenRequests).toBe(0);
  });

  test('an expired state (10 minutes on): 400 expired, no code exchanged', async () => {
    const started = await h.start(USER);
    const callback = await h.decide(started, USER);
    h.travel(10 * 60_000);
    const res = await h.http().get(`${callback.pathname}${callback.search}`).set('cookie', started.cookie);
    expect({ status: res.status, result: resultOf(res.text) }).toEqual({ status: 400, result: 'expired' });
    await nothingStored();
    expect(h.tokenRequests).toEqual([]);
  });

  test('a callback in another browser (no nonce cookie): 400 other_browser, and the state is spent', async () => {
    const started = await h.start(USER);
    const callback = await h.decide(started, USER);
    const path = `${callback.pathname}${callback.search}`;
    const other = await h.http().get(path);
    expect({ status: other.status, result: resultOf(other.text) }).toEqual({
      status: 400,
      result: 'other_browser',
    });
    // Another browser's cookie is no better than none.
    const started2 = await h.start(USER);
    const forged = await h.http().get(path).set('cookie', started2.cookie);
    expect(resultOf(forged.text)).toBe('expired');
    const late = await h.http().get(path).set('cookie', started.cookie);
    expect({ status: late.status, result: resultOf(late.text) }).toEqual({ status: 400, result: 'expired' });
    await nothingStored();
  });

  test('rate limits: 3 per user and route, the 4th a 429 that costs nothing; forged launches count per address', async () => {
    // Start at a window boundary of the router's clock: the counts below fall in one window.
    h.travel(60_000 - (Date.now() % 60_000));
    for (let i = 0; i < 3; i += 1) await h.http().post('/jira/launch').set('x-user', USER).expect(200);
    const limited = await h.http().post('/jira/launch').set('x-user', USER);
    expect(limited.status).toBe(429);
    expect(limited.text).toBe('Too Many Requests');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await h.http().post('/jira/launch').set('x-user', OTHER_USER).expect(200);
    const forged = () => h.http().post('/jira/connect').type('form').send({ launch: 'v1.forged.launch' });
    for (let i = 0; i < 3; i += 1) expect(resultOf((await forged()).text)).toBe('expired');
    const refused = await forged();
    expect(refused.status).toBe(429);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(refused.headers.location).toBeUndefined();
    // A verified launch counts for its user, not the address.
    const launch = h.consent.launches.issue({ clientKey: TENANT, accountId: OTHER_USER });
    await h.http().post('/jira/connect').type('form').send({ launch }).expect(303);
    h.travel(retryAfter * 1000);
    await h.http().post('/jira/launch').set('x-user', USER).expect(200);
    expect(h.sim.sim.stats().codeExchanges).toBe(0);
  });

  test('several granted sites and no tenant preference: the user picks one, once, in this browser', async () => {
    const res = await h.connect(OTHER_USER);
    expect({ status: res.status, result: resultOf(res.text) }).toEqual({
      status: 200,
      result: 'choose_site',
    });
    expectFlowPage(res);
    expect([...res.text.matchAll(/\svalue="([^"]*)"/g)].map((m) => m[1]).sort()).toEqual([
      'a1b2c3d4-0001-4000-8000-000000000001',
      'a1b2c3d4-0002-4000-8000-000000000002',
    ]);
    expect(res.text).toContain('<form method="post" action="site">');
    expect(await h.status(OTHER_USER)).toBeNull();
    const cookie = nonceCookie(res);
    const cloudId = 'a1b2c3d4-0002-4000-8000-000000000002';
    const withoutCookie = await h.http().post('/jira/site').type('form').send({ cloudId });
    expect({ status: withoutCookie.status, result: resultOf(withoutCookie.text) }).toEqual({
      status: 400,
      result: 'expired',
    });
    const chosen = await h.http().post('/jira/site').set('cookie', cookie).type('form').send({ cloudId });
    expect({ status: chosen.status, result: resultOf(chosen.text) }).toEqual({
      status: 200,
      result: 'connected',
    });
    const again = await h.http().post('/jira/site').set('cookie', cookie).type('form').send({ cloudId });
    expect(resultOf(again.text)).toBe('expired');
    expect(await h.status(OTHER_USER)).toMatchObject({
      state: 'active',
      site: { cloudId, url: 'https://other.atlassian.net' },
    });
  });

  test("the page's routes: anonymous 403, an invalid user 400, the app's authentication first", async () => {
    for (const [method, path] of [
      ['post', '/jira/launch'],
      ['get', '/jira/status'],
      ['post', '/jira/disconnect'],
    ] as const) {
      const anonymous = await h.http()[method](path);
      expect({ status: anonymous.status, body: anonymous.body }).toEqual({
        status: 403,
        body: { error: 'anonymous' },
      });
      expect(anonymous.headers['cache-control']).toBe('no-store');
      const invalid = await h.http()[method](path).set('x-user', 'invalid');
      expect({ status: invalid.status, body: invalid.body }).toEqual({
        status: 400,
        body: { error: 'jira_invalid_user' },
      });
      const tooLong = await h.http()[method](path).set('x-user', 'a'.repeat(513));
      expect({ status: tooLong.status, body: tooLong.body }).toEqual({
        status: 400,
        body: { error: 'jira_invalid_user' },
      });
      // A refusal of `authenticate` goes to the app's error handler, before any user is resolved.
      const refused = await h.http()[method](path).set('x-user', USER).set('x-deny', '1');
      expect({ status: refused.status, text: refused.text }).toEqual({
        status: 401,
        text: 'app error handler',
      });
      expect(refused.headers['cache-control']).toBe('no-store');
    }
    expect(h.errors.map((e) => (e as Error).message)).toEqual(['refused', 'refused', 'refused']);
  });

  test("the token manager's failures go to the app's error handler", async () => {
    h.tokens.status = async () => {
      throw new Error('store down');
    };
    const res = await h.http().get('/jira/status').set('x-user', USER);
    expect({ status: res.status, text: res.text }).toEqual({ status: 500, text: 'app error handler' });
    expect(h.errors.map((e) => (e as Error).message)).toEqual(['store down']);
  });

  test('other paths and methods under the mount go on to the app', async () => {
    for (const [method, path] of [
      ['get', '/jira/launch'],
      ['head', '/jira/callback'],
      ['head', '/jira/status'],
      ['get', '/jira/connect'],
      ['post', '/jira/callback'],
      ['get', '/jira/nope'],
      ['get', '/jira'],
    ] as const) {
      expect((await h.http()[method](path)).status).toBe(404);
    }
  });

  test('GET /jira/consent.js: the browser helper, revalidated by ETag', async () => {
    const res = await h.http().get('/jira/consent.js').expect(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toContain('window.JiraConsent = { connect: connect };');
    const etag = res.headers.etag as string;
    await h.http().get('/jira/consent.js').set('if-none-match', etag).expect(304);
    await h.http().head('/jira/consent.js').expect(200);
  });
});
