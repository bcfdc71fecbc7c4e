// The consent, end to end: launch token → popup → Atlassian's consent → callback (→ site choice),
// and every way it must refuse to store anything.

import {
  OTHER_USER,
  type TestApp,
  USER,
  attributes,
  issueKeys,
  nonceCookie,
  resultOf,
  startTestApp,
  stateOf,
} from './helpers';

describe('connecting Jira', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const launch = async (accountId = USER): Promise<string> =>
    (
      await t
        .http()
        .post('/jira/launch')
        .set('authorization', `JWT ${t.contextToken(accountId)}`)
        .expect(200)
    ).body.launch as string;
  const status = (accountId = USER, clientKey = t.tenant.clientKey) =>
    t.running.tokens.status({ clientKey, accountId });
  /** Nothing was stored: no record, no code exchanged. */
  const expectNothingStored = async () => {
    expect(await status()).toBeNull();
    expect((await t.stats()).codeExchanges).toBe(0);
  };

  test('a user who never connected sees "Connect Jira", and no token request is made', async () => {
    const res = await t.macro(USER);
    expect(res.status).toBe(200);
    expect(stateOf(res.text)).toBe('connect');
    expect(attributes(res.text, 'data-action')).toEqual(['connect']);
    expect((await t.stats()).tokenRequests).toBe(0);
  });

  test('the whole flow stores the tokens, and the macro then shows the issue table', async () => {
    const run = await t.connect(USER);
    expect(run.result.status).toBe(200);
    expect(resultOf(run.result.text)).toBe('connected');
    expect(run.result.headers['cache-control']).toBe('no-store');
    expect(run.result.headers['referrer-policy']).toBe('no-referrer');
    expect(run.result.headers['x-frame-options']).toBe('DENY');
    expect(run.result.headers['cross-origin-opener-policy']).toBeUndefined();
    // The authorize request asks for what the macro needs, for this app's callback.
    expect(Object.fromEntries(run.authorizeUrl.searchParams)).toEqual({
      audience: 'api.atlassian.com',
      client_id: 'sim-client-id',
      scope: 'read:jira-work read:jira-user read:me offline_access',
      redirect_uri: `${t.running.urls.localBaseUrl}/jira/callback`,
      state: run.state,
      response_type: 'code',
      prompt: 'consent',
    });
    const polled = await t
      .http()
      .get('/jira/status')
      .set('authorization', `JWT ${t.contextToken(USER)}`)
      .expect(200);
    expect(polled.body).toEqual({ connected: true, state: 'active', site: 'https://sandbox.atlassian.net' });
    const macro = await t.macro(USER);
    expect(macro.status).toBe(200);
    expect(stateOf(macro.text)).toBe('ready');
    expect(issueKeys(macro.text)).toEqual(['SAND-1', 'SAND-2', 'SAND-3', 'SAND-4', 'SAND-5']);
    expect(attributes(macro.text, 'href')).toContain('https://sandbox.atlassian.net/browse/SAND-1');
    expect(await t.stats()).toMatchObject({ codeExchanges: 1, rotations: 0, revocations: 0 });
  });

  test('a replayed callback (state already used) is refused: 400, one exchange only', async () => {
    const run = await t.connect(USER);
    const replay = await t.http().get(run.callbackPath).set('cookie', run.cookie);
    expect(replay.status).toBe(400);
    expect(resultOf(replay.text)).toBe('expired');
    expect((await t.stats()).codeExchanges).toBe(1);
  });

  test('a tampered or expired state is refused: 400, nothing stored', async () => {
    const started = await t
      .http()
      .post('/jira/connect')
      .type('form')
      .send({ launch: await launch() })
      .expect(303);
    const cookie = nonceCookie(started);
    const callback = new URL(await t.decide(started, USER));
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const res = await t.http().get(`${tampered.pathname}${tampered.search}`).set('cookie', cookie);
    expect(res.status).toBe(400);
    expect(resultOf(res.text)).toBe('expired');
    // States live ten minutes.
    t.travel(10 * 60_000);
    const late = await t.http().get(`${callback.pathname}${callback.search}`).set('cookie', cookie);
    expect(late.status).toBe(400);
    expect(resultOf(late.text)).toBe('expired');
    await expectNothingStored();
  });

  test('a callback without the nonce cookie (another browser) is refused: 400, nothing stored', async () => {
    const started = await t
      .http()
      .post('/jira/connect')
      .type('form')
      .send({ launch: await launch() })
      .expect(303);
    const callback = new URL(await t.decide(started, USER));
    const cookie = nonceCookie(started);
    const res = await t.http().get(`${callback.pathname}${callback.search}`);
    expect(res.status).toBe(400);
    expect(resultOf(res.text)).toBe('other_browser');
    // The state is spent by the refused attempt: the right browser cannot use it afterwards either.
    const after = await t.http().get(`${callback.pathname}${callback.search}`).set('cookie', cookie);
    expect(resultOf(after.text)).toBe('expired');
    await expectNothingStored();
  });

  test('a tampered, expired or replayed launch token is refused: 400, no state, no cookie', async () => {
    const token = await launch();
    const [version, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const otherUser = Buffer.from(JSON.stringify({ ...claims, a: OTHER_USER })).toString('base64url');
    const refused = async (value: string) => {
      const res = await t.http().post('/jira/connect').type('form').send({ launch: value });
      expect(res.status).toBe(400);
      expect(resultOf(res.text)).toBe('expired');
      expect(res.headers['set-cookie']).toBeUndefined();
    };
    for (const forged of ['', 'v1.e30.AAAA', `${version}.${otherUser}.${mac}`]) await refused(forged);
    // Used once, it is spent.
    await t.http().post('/jira/connect').type('form').send({ launch: token }).expect(303);
    await refused(token);
    // Unused, it expires after 60 seconds.
    const late = await launch();
    t.travel(60_000);
    await refused(late);
    await expectNothingStored();
  });

  test('a consent by another Atlassian account than the Connect user stores nothing (403)', async () => {
    const run = await t.connect(USER, { consentAs: OTHER_USER });
    expect(run.result.status).toBe(403);
    expect(resultOf(run.result.text)).toBe('wrong_account');
    expect(await status(USER)).toBeNull();
    expect(await status(OTHER_USER)).toBeNull();
    expect(t.logger.events('consent_refused').map((e) => e.obj.reason)).toEqual(['wrong_account']);
  });

  test('a denied consent is reported and stores nothing', async () => {
    const run = await t.connect(USER, { decision: 'deny' });
    expect(run.result.status).toBe(200);
    expect(resultOf(run.result.text)).toBe('denied');
    await expectNothingStored();
  });

  describe('the site', () => {
    test('is the accessible resource on the origin of the Confluence site, whatever the order', async () => {
      // sim-user-2 reaches both sites; the simulator lists them in reverse order.
      const other = await t.installTenant({
        clientKey: 'tenant-other',
        baseUrl: 'https://other.atlassian.net/wiki',
      });
      const run = await t.connect(OTHER_USER, { tenant: other });
      expect(resultOf(run.result.text)).toBe('connected');
      expect(await status(OTHER_USER, 'tenant-other')).toMatchObject({
        site: { cloudId: 'a1b2c3d4-0002-4000-8000-000000000002', url: 'https://other.atlassian.net' },
      });
      expect(issueKeys((await t.macro(OTHER_USER, undefined, other)).text)[0]).toBe('OTHE-1');
    });

    test("otherwise the user chooses among theirs; the choice is bound to the popup's browser", async () => {
      const elsewhere = await t.installTenant({
        clientKey: 'tenant-elsewhere',
        baseUrl: 'https://elsewhere.atlassian.net/wiki',
      });
      const run = await t.connect(OTHER_USER, { tenant: elsewhere });
      expect(run.result.status).toBe(200);
      expect(resultOf(run.result.text)).toBe('choose_site');
      expect(attributes(run.result.text, 'value').sort()).toEqual([
        'a1b2c3d4-0001-4000-8000-000000000001',
        'a1b2c3d4-0002-4000-8000-000000000002',
      ]);
      expect(await status(OTHER_USER, 'tenant-elsewhere')).toBeNull();
      const cookie = nonceCookie(run.result);
      // Without the cookie, nothing; with it, once.
      const cloudId = 'a1b2c3d4-0002-4000-8000-000000000002';
      expect(resultOf((await t.http().post('/jira/site').type('form').send({ cloudId })).text)).toBe(
        'expired',
      );
      const chosen = await t.http().post('/jira/site').set('cookie', cookie).type('form').send({ cloudId });
      expect(chosen.status).toBe(200);
      expect(resultOf(chosen.text)).toBe('connected');
      const again = await t.http().post('/jira/site').set('cookie', cookie).type('form').send({ cloudId });
      expect(resultOf(again.text)).toBe('expired');
      expect(await status(OTHER_USER, 'tenant-elsewhere')).toMatchObject({
        state: 'active',
        site: { cloudId, url: 'https://other.atlassian.net' },
      });
      const macro = await t.macro(OTHER_USER, undefined, elsewhere);
      expect(issueKeys(macro.text)[0]).toBe('OTHE-1');
      expect(attributes(macro.text, 'href')).toContain('https://other.atlassian.net/browse/OTHE-1');
    });

    test('an uninstall while the user is choosing stays final: nothing stored', async () => {
      const elsewhere = await t.installTenant({
        clientKey: 'tenant-elsewhere',
        baseUrl: 'https://elsewhere.atlassian.net/wiki',
      });
      const run = await t.connect(OTHER_USER, { tenant: elsewhere });
      expect(resultOf(run.result.text)).toBe('choose_site');
      const cookie = nonceCookie(run.result);
      await elsewhere.uninstall();
      const res = await t
        .http()
        .post('/jira/site')
        .set('cookie', cookie)
        .type('form')
        .send({ cloudId: 'a1b2c3d4-0002-4000-8000-000000000002' });
      expect(res.status).toBe(400);
      expect(resultOf(res.text)).toBe('not_installed');
      expect(await status(OTHER_USER, 'tenant-elsewhere')).toBeNull();
    });

    test('a site that is not one of the offered ones is refused and stores nothing', async () => {
      const elsewhere = await t.installTenant({
        clientKey: 'tenant-elsewhere',
        baseUrl: 'https://elsewhere.atlassian.net/wiki',
      });
      const run = await t.connect(USER, { tenant: elsewhere });
      expect(resultOf(run.result.text)).toBe('choose_site');
      const cookie = nonceCookie(run.result);
      const res = await t
        .http()
        .post('/jira/site')
        .set('cookie', cookie)
        .type('form')
        .send({ cloudId: 'a1b2c3d4-0002-4000-8000-000000000002' });
      expect(res.status).toBe(400);
      expect(await status(USER, 'tenant-elsewhere')).toBeNull();
    });
  });

  test('the launch, status and disconnect routes need a valid Connect token and a user', async () => {
    for (const path of ['/jira/launch', '/jira/disconnect']) {
      await t.http().post(path).expect(401);
      await t.http().post(path).set('authorization', 'JWT not.a.jwt').expect(401);
    }
    await t.http().get('/jira/status').expect(401);
    const anonymous = t.tenant.contextJwt(undefined);
    const res = await t.http().post('/jira/launch').set('authorization', `JWT ${anonymous}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'anonymous' });
  });

  test('disconnect forgets the tokens; the macro asks to connect again', async () => {
    await t.connect(USER);
    await t
      .http()
      .post('/jira/disconnect')
      .set('authorization', `JWT ${t.contextToken(USER)}`)
      .expect(204);
    expect(await status()).toBeNull();
    const polled = await t
      .http()
      .get('/jira/status')
      .set('authorization', `JWT ${t.contextToken(USER)}`);
    expect(polled.body).toEqual({ connected: false, state: 'not_connected' });
    expect(stateOf((await t.macro(USER)).text)).toBe('connect');
  });
});
