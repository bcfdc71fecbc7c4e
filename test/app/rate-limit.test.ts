// The consent routes' rate limits through the app: with CONNECT_RATE_LIMIT=3, exactly 3 requests
// per (tenant, user) and route in a window, the 4th a 429 with Retry-After that costs nothing (no
// launch, no state, no code exchange), other users and tenants unaffected, and the limit lifted
// once Retry-After has passed on the app's clock. Requests without a valid user count per address.

import request from 'supertest';
import { OTHER_USER, type TestApp, USER, nonceCookie, pathOf, resultOf, startTestApp } from './helpers';

const LIMIT = 3;
const WINDOW_MS = 60_000;

function expectLimited(res: request.Response): number {
  expect(res.status).toBe(429);
  expect(res.text).toBe('Too Many Requests');
  // No consent cookie is set (a callback clears its own, as any callback does).
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  expect(cookies.filter((c) => /^jtr-consent=[^;]/.test(c))).toEqual([]);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
  return retryAfter;
}

describe.each([
  ['memory', false],
  ['Redis', true],
])('rate limits (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({
      redis,
      env: { CONNECT_RATE_LIMIT: String(LIMIT), CONNECT_RATE_WINDOW_SECONDS: String(WINDOW_MS / 1000) },
    });
    // Start at a window boundary of the app's clock: the counts below all fall in one window.
    t.travel(WINDOW_MS - (Date.now() % WINDOW_MS));
  });
  afterEach(async () => {
    await t.close();
  });

  const launch = (accountId: string, tenant = t.tenant) =>
    t
      .http()
      .post('/jira/launch')
      .set('authorization', `JWT ${t.contextToken(accountId, tenant)}`);
  const connect = (accountId: string, clientKey = t.tenant.clientKey) =>
    t
      .http()
      .post('/jira/connect')
      .type('form')
      .send({ launch: t.running.launches.issue({ clientKey, accountId }) });

  test('POST /jira/launch: 3 per user, the 4th is 429; other users and tenants are unaffected', async () => {
    for (let i = 0; i < LIMIT; i += 1) expect((await launch(USER)).status).toBe(200);
    const limited = await launch(USER);
    const retryAfter = expectLimited(limited);
    expect(limited.body).toEqual({});
    expect((await launch(OTHER_USER)).status).toBe(200);
    const other = await t.installTenant({ clientKey: 'tenant-rate-other' });
    expect((await launch(USER, other)).status).toBe(200);
    // Once Retry-After has passed, the user may launch again.
    t.travel(retryAfter * 1000);
    expect((await launch(USER)).status).toBe(200);
  });

  test('POST /jira/connect: 3 per user, the 4th is 429 with no state; forged launches count per address', async () => {
    for (let i = 0; i < LIMIT; i += 1) expect((await connect(USER)).status).toBe(303);
    expectLimited(await connect(USER));
    expect((await connect(OTHER_USER)).status).toBe(303);
    expect((await connect(USER, 'tenant-rate-other')).status).toBe(303);
    // Launch tokens that do not verify carry no user: they count per client address.
    const forged = () => t.http().post('/jira/connect').type('form').send({ launch: 'v1.forged.launch' });
    for (let i = 0; i < LIMIT; i += 1) expect(resultOf((await forged()).text)).toBe('expired');
    const retryAfter = expectLimited(await forged());
    // The valid users above are not the address's count: they still go through.
    expect((await connect(OTHER_USER)).status).toBe(303);
    t.travel(retryAfter * 1000);
    expect((await connect(USER)).status).toBe(303);
    expect((await t.stats()).codeExchanges).toBe(0);
  });

  test("GET /jira/callback: 3 per state's user; the 4th is 429 and exchanges no code", async () => {
    // Six consents started, three in each of two windows (connect's own limit), then answered
    // in the second window: the callback's count is per the state's user.
    const started: request.Response[] = [];
    for (let i = 0; i < LIMIT; i += 1) started.push(await connect(USER));
    t.travel(WINDOW_MS);
    for (let i = 0; i < LIMIT; i += 1) started.push(await connect(USER));
    const denied = (res: request.Response) => {
      const state = new URL(res.headers.location as string).searchParams.get('state')!;
      return t
        .http()
        .get(`/jira/callback?state=${encodeURIComponent(state)}&error=access_denied`)
        .set('cookie', nonceCookie(res));
    };
    for (const res of started.slice(0, LIMIT)) expect(resultOf((await denied(res)).text)).toBe('denied');
    // The 4th carries a real authorization code: refused before any exchange.
    const fourth = started[LIMIT];
    const limited = await t
      .http()
      .get(pathOf(await t.decide(fourth, USER)))
      .set('cookie', nonceCookie(fourth));
    expectLimited(limited);
    expect((await t.stats()).codeExchanges).toBe(0);
    expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER })).toBeNull();
    // Another user's callback goes through; unknown states count per address.
    const others = await connect(OTHER_USER);
    expect(resultOf((await denied(others)).text)).toBe('denied');
    const unknown = () => t.http().get('/jira/callback?state=unknown&code=x');
    for (let i = 0; i < LIMIT; i += 1) expect(resultOf((await unknown()).text)).toBe('expired');
    expectLimited(await unknown());
    expect((await t.stats()).codeExchanges).toBe(0);
  });
});
