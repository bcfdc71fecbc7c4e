// Tenant isolation. Through the routes: a valid JWT of tenant A, whatever account it names (any
// `sub`, any `context.user.accountId`, tenant B's users included), only ever reaches tenant A's
// records: the macro uses A's token on A's site or asks to connect, never B's token, and B's
// records are untouched. (The stores themselves: lib/test/store/user-key-isolation.test.ts.)

import * as jwt from 'atlassian-jwt';
import fc from 'fast-check';
import { MACRO_QUERY, OTHER_USER, type TestApp, USER, issueKeys, startTestApp, stateOf } from './helpers';

/** Text built from the characters that break naive keys. */
const hostileText = fc.string({
  unit: fc.constantFrom(':', '{', '}', '*', '\n', '\r', '.', '=', ' ', '/', '\u0000', 'é', '😀', 'a', 'b'),
  minLength: 1,
  maxLength: 8,
});

describe('tenant isolation through the routes', () => {
  const ATTACKER_SECRET = 'attacker-tenant-shared-secret-0123456789abcdef';
  let t: TestApp;
  beforeAll(async () => {
    // The same few accounts launch again and again here: a rate limit is not what is tested.
    t = await startTestApp({ env: { CONNECT_RATE_LIMIT: '1000000' } });
    // Tenant B (the sandbox tenant, site SAND) has both users connected; tenant A (another
    // site, OTHE) only OTHER_USER.
    await t.connect(USER);
    await t.connect(OTHER_USER);
    const attacker = await t.installTenant({
      clientKey: 'tenant-a',
      baseUrl: 'https://other.atlassian.net/wiki',
      sharedSecret: ATTACKER_SECRET,
    });
    await t.connect(OTHER_USER, { tenant: attacker });
  }, 30_000);
  afterAll(async () => {
    await t.close();
  });

  const victimRecords = async () =>
    Promise.all(
      [USER, OTHER_USER].map((accountId) =>
        t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId }),
      ),
    );

  test("tenant A's JWT, naming any account, never uses or reveals tenant B's token", async () => {
    const before = await victimRecords();
    const accountIds = fc.oneof(
      fc.constantFrom(USER, OTHER_USER, `${USER}\n`, `${t.tenant.clientKey}:${USER}`, 'x'.repeat(600)),
      hostileText,
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(accountIds, fc.constantFrom('sub', 'context'), async (accountId, where) => {
        const iat = Math.floor(Date.now() / 1000);
        const path = `/macro/jira-issues?${MACRO_QUERY}`;
        const claims = {
          iss: 'tenant-a',
          iat,
          exp: iat + 180,
          qsh: jwt.createQueryStringHash(
            jwt.fromMethodAndUrl('GET', path),
            false,
            t.running.urls.localBaseUrl,
          ),
          ...(where === 'sub' ? { sub: accountId } : { context: { user: { accountId } } }),
        };
        const token = jwt.encodeSymmetric(claims, ATTACKER_SECRET, jwt.SymmetricAlgorithm.HS256);
        const stats = await t.stats();
        const res = await t.http().get(`${path}&jwt=${token}`);
        if (accountId.length > 512) {
          // More than the token store holds (Atlassian's are 128 at most): a bad request, no 500.
          expect(res.status).toBe(400);
          expect((await t.stats()).apiRequests).toBe(stats.apiRequests);
          return;
        }
        expect(res.status).toBe(200);
        for (const secret of t.probe.secrets) expect(res.text).not.toContain(secret);
        const after = await t.stats();
        if (accountId === OTHER_USER) {
          // A's own record: A's site's issues, one Jira call, no rotation.
          expect(stateOf(res.text)).toBe('ready');
          expect(issueKeys(res.text)[0]).toBe('OTHE-1');
          expect(after.apiRequests - stats.apiRequests).toBe(1);
        } else {
          // Not connected in A: asked to connect, with no Jira call at all.
          expect(stateOf(res.text)).toBe('connect');
          expect(after.apiRequests).toBe(stats.apiRequests);
        }
        expect(after.tokenRequests).toBe(stats.tokenRequests);
        // A's status and launch are A's too.
        const context = jwt.encodeSymmetric(
          { ...claims, qsh: 'context-qsh' },
          ATTACKER_SECRET,
          jwt.SymmetricAlgorithm.HS256,
        );
        const status = await t.http().get('/jira/status').set('authorization', `JWT ${context}`);
        expect(status.body.connected).toBe(accountId === OTHER_USER);
        const launch = await t.http().post('/jira/launch').set('authorization', `JWT ${context}`).expect(200);
        expect(t.running.launches.verify(launch.body.launch)?.user).toEqual({
          clientKey: 'tenant-a',
          accountId,
        });
      }),
      { numRuns: 60 },
    );
    expect(await victimRecords()).toEqual(before);
  }, 60_000);

  test("tenant A's disconnect, naming B's accounts, leaves B's users connected", async () => {
    const before = await victimRecords();
    const context = (accountId: string) => {
      const iat = Math.floor(Date.now() / 1000);
      return jwt.encodeSymmetric(
        { iss: 'tenant-a', sub: accountId, iat, exp: iat + 180, qsh: 'context-qsh' },
        ATTACKER_SECRET,
        jwt.SymmetricAlgorithm.HS256,
      );
    };
    for (const accountId of [USER, OTHER_USER])
      await t
        .http()
        .post('/jira/disconnect')
        .set('authorization', `JWT ${context(accountId)}`)
        .expect(204);
    expect(await t.running.tokens.status({ clientKey: 'tenant-a', accountId: OTHER_USER })).toBeNull();
    expect(await victimRecords()).toEqual(before);
    expect(issueKeys((await t.macro(USER)).text)[0]).toBe('SAND-1');
  });
});
