// The macro: a burst of macros after the access token expired costs one rotation, in memory and
// in Redis; and each state of the chain gets its view.

import * as jwt from 'atlassian-jwt';
import {
  HOUR,
  MACRO_QUERY,
  OTHER_USER,
  type TestApp,
  USER,
  issueKeys,
  startTestApp,
  stateOf,
} from './helpers';

const DAY = 24 * HOUR;

describe.each([
  ['memory', false],
  ['redis', true],
] as const)('a burst of 30 macros (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t.close();
  });

  test('after the access token expired: 30 issue tables and exactly one rotation', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    const pages = await Promise.all(Array.from({ length: 30 }, () => t.macro(USER)));
    expect(pages.map((p) => p.status)).toEqual(Array(30).fill(200));
    expect(pages.map((p) => stateOf(p.text))).toEqual(Array(30).fill('ready'));
    for (const page of pages) expect(issueKeys(page.text)).toHaveLength(5);
    expect(await t.stats()).toMatchObject({
      codeExchanges: 1,
      rotations: 1,
      leewayReuses: 0,
      revocations: 0,
      invalidGrant: 0,
      apiUnauthorized: 0,
    });
    // The next burst, within the new token's life, costs nothing.
    await Promise.all(Array.from({ length: 10 }, () => t.macro(USER)));
    expect((await t.stats()).rotations).toBe(1);
  });
});

describe('macro views', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  test('an anonymous viewer gets a notice, and no token is read or refreshed', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    const before = t.running.tokens.stats();
    const res = await t.macro(undefined);
    expect(res.status).toBe(200);
    expect(stateOf(res.text)).toBe('neutral');
    expect(t.running.tokens.stats()).toEqual(before);
    expect((await t.stats()).rotations).toBe(0);
  });

  test('a dead token family asks the user to reconnect, then a new consent works', async () => {
    await t.connect(USER);
    // Past Atlassian's 90-day inactivity expiry the refresh token is refused (invalid_grant).
    await t.advance(91 * DAY);
    const res = await t.macro(USER);
    expect(res.status).toBe(200);
    expect(stateOf(res.text)).toBe('reconnect');
    expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER })).toMatchObject({
      state: 'reauthorization_required',
    });
    await t.connect(USER);
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
  });

  test('a token endpoint that fails twice is ridden through: the page renders, from one rotation', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    // Both of the holder's attempts get a 500: the server answered, so it retried at once; the
    // request then waits for its next attempt (paced by inDoubtRetryMs) instead of answering 503.
    t.running.sim!.scriptOutcomes(['server_error', 'server_error']);
    const page = await t.macro(USER);
    expect(page.status).toBe(200);
    expect(stateOf(page.text)).toBe('ready');
    // The consent's code exchange, two 500s, and the rotation.
    expect(await t.stats()).toMatchObject({
      codeExchanges: 1,
      tokenRequests: 4,
      rotations: 1,
      leewayReuses: 0,
      revocations: 0,
      invalidGrant: 0,
    });
  });

  test("a gateway's 502 gives 503 with Retry-After at once; after the commit horizon the chain is kept and recovers", async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    // The server rotated, then its gateway answered 502: the request may have committed, so no
    // process sends that refresh token again before the commit horizon, beyond any wait budget.
    t.running.sim!.scriptOutcomes(['server_error_after_commit']);
    const failed = await t.macro(USER);
    expect(failed.status).toBe(503);
    expect(stateOf(failed.text)).toBe('error');
    expect(failed.headers['retry-after']).toBe('60');
    // The chain is retried no sooner than the Retry-After the page was given: a leeway reuse.
    await t.advance(Number(failed.headers['retry-after']) * 1000);
    const recovered = await t.macro(USER);
    expect(recovered.status).toBe(200);
    expect(stateOf(recovered.text)).toBe('ready');
    // The consent's code exchange, the 502, and the retry at the horizon.
    expect(await t.stats()).toMatchObject({
      codeExchanges: 1,
      tokenRequests: 3,
      rotations: 1,
      leewayReuses: 1,
      revocations: 0,
      invalidGrant: 0,
    });
  });

  test('tokens are per tenant: the same account on another site must connect there', async () => {
    await t.connect(USER);
    const other = await t.installTenant({ clientKey: 'tenant-two' });
    expect(stateOf((await t.macro(USER, undefined, other)).text)).toBe('connect');
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
    expect(stateOf((await t.macro(OTHER_USER)).text)).toBe('connect');
  });

  test("macro pages may be framed by the tenant's site and the sandbox host only, are never cached, and carry no ACE session token", async () => {
    await t.connect(USER);
    const res = await t.macro(USER);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-acpt']).toBeUndefined();
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(res.headers['content-security-policy']).toMatch(
      new RegExp(
        `; frame-ancestors https://sandbox\\.atlassian\\.net ${t.running.urls.sandboxOrigin.replace(/\./g, '\\.')}$`,
      ),
    );
    expect(res.text).not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
    const other = await t.installTenant({
      clientKey: 'tenant-acme',
      baseUrl: 'https://acme.atlassian.net/wiki',
    });
    expect((await t.macro(USER, undefined, other)).headers['content-security-policy']).toContain(
      `frame-ancestors https://acme.atlassian.net ${t.running.urls.sandboxOrigin}`,
    );
  });

  test('an export (outputType pdf, word…) renders neutrally and costs no token', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    const before = t.running.tokens.stats();
    for (const outputType of ['pdf', 'word', 'email', 'html_export']) {
      const res = await t.macro(USER, MACRO_QUERY.replace('outputType=display', `outputType=${outputType}`));
      expect(res.status).toBe(200);
      expect(stateOf(res.text)).toBe('neutral');
    }
    expect(t.running.tokens.stats()).toEqual(before);
    expect((await t.stats()).tokenRequests).toBe(1);
    // `preview` (the editor) is interactive.
    expect(
      stateOf((await t.macro(USER, MACRO_QUERY.replace('outputType=display', 'outputType=preview'))).text),
    ).toBe('ready');
  });
});

describe('macro requests without a valid Connect JWT: 401, and no token is touched', () => {
  let t: TestApp;
  const SECRET = 'a-known-shared-secret-for-forging-0123456789';
  beforeAll(async () => {
    t = await startTestApp();
    const known = await t.installTenant({ clientKey: 'tenant-known', sharedSecret: SECRET });
    await t.connect(USER, { tenant: known });
    // Expired: any request that reached the token manager would rotate.
    await t.advance(HOUR + 1);
  });
  afterAll(async () => {
    await t.close();
  });

  const path = `/macro/jira-issues?${MACRO_QUERY}`;
  const qsh = () =>
    jwt.createQueryStringHash(jwt.fromMethodAndUrl('GET', path), false, t.running.urls.localBaseUrl);
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: object, secret = SECRET) =>
    jwt.encodeSymmetric(claims, secret, jwt.SymmetricAlgorithm.HS256);
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  test.each([
    ['no JWT', () => ''],
    ['garbage', () => 'not-a-jwt'],
    [
      'signed with another secret',
      () => sign({ iss: 'tenant-known', sub: USER, iat: now(), exp: now() + 60, qsh: qsh() }, 'wrong-secret'),
    ],
    ['expired', () => sign({ iss: 'tenant-known', sub: USER, iat: now() - 600, exp: now() - 1, qsh: qsh() })],
    [
      'for another request (qsh)',
      () => sign({ iss: 'tenant-known', sub: USER, iat: now(), exp: now() + 60, qsh: 'context-qsh' }),
    ],
    [
      'alg none',
      () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'tenant-known', sub: USER, iat: now(), exp: now() + 60, qsh: qsh() })}.`,
    ],
    [
      'for an unknown tenant',
      () => sign({ iss: 'tenant-unknown', sub: USER, iat: now(), exp: now() + 60, qsh: qsh() }),
    ],
  ])('%s', async (_name, token) => {
    const before = t.running.tokens.stats();
    const { tokenRequests } = await t.stats();
    const value = token();
    const res = await t.http().get(value ? `${path}&jwt=${value}` : path);
    expect(res.status).toBe(401);
    expect(t.running.tokens.stats()).toEqual(before);
    expect((await t.stats()).tokenRequests).toBe(tokenRequests);
  });

  test('the same request with a valid JWT gets its table: the forgeries were the only difference', async () => {
    const token = sign({ iss: 'tenant-known', sub: USER, iat: now(), exp: now() + 60, qsh: qsh() });
    await t.connect(USER, {
      tenant: await t.installTenant({ clientKey: 'tenant-known', sharedSecret: SECRET }),
    });
    const res = await t.http().get(`${path}&jwt=${token}`);
    expect(res.status).toBe(200);
    expect(stateOf(res.text)).toBe('ready');
  });
});
