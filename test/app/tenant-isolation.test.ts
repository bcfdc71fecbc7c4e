// Tenant isolation. Through the routes: a valid JWT of tenant A, whatever account it names (any
// `sub`, any `context.user.accountId`, tenant B's users included), only ever reaches tenant A's
// records: the macro uses A's token on A's site or asks to connect, never B's token, and B's
// records are untouched. In the stores: clientKeys and accountIds holding `:`, `{`, `}`, `*`,
// newlines or any unicode map to distinct keys, and purging a tenant forgets its users only.

import { randomBytes, randomUUID } from 'node:crypto';
import * as jwt from 'atlassian-jwt';
import fc from 'fast-check';
import Redis from 'ioredis';
import { type TokenManager, type UserRef, createTokenManager } from '../../lib';
import { parseUserId, tenantTag, userId } from '../../lib/user-key';
import {
  MACRO_QUERY,
  OTHER_USER,
  REDIS_URL,
  type TestApp,
  USER,
  deleteKeys,
  issueKeys,
  startTestApp,
  stateOf,
} from './helpers';

/** Text built from the characters that break naive keys. */
const hostileText = fc.string({
  unit: fc.constantFrom(':', '{', '}', '*', '\n', '\r', '.', '=', ' ', '/', '\u0000', 'é', '😀', 'a', 'b'),
  minLength: 1,
  maxLength: 8,
});
/** Pairs that a `clientKey:accountId` key would confuse. */
const NAIVE_COLLISIONS: UserRef[] = [
  { clientKey: 'a', accountId: 'b:c' },
  { clientKey: 'a:b', accountId: 'c' },
  { clientKey: '{t:a}', accountId: 'b' },
  { clientKey: 'a', accountId: '*' },
  { clientKey: 'a.b', accountId: 'c' },
  { clientKey: 'a', accountId: 'b.c' },
];

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

describe('user keys', () => {
  const user = fc.record({ clientKey: hostileText, accountId: hostileText });

  test('distinct users have distinct ids, each parsing back to its user', () => {
    fc.assert(
      fc.property(
        fc.oneof(user, fc.constantFrom(...NAIVE_COLLISIONS)),
        fc.oneof(user, fc.constantFrom(...NAIVE_COLLISIONS)),
        (a, b) => {
          expect(parseUserId(userId(a))).toEqual(a);
          expect(userId(a) === userId(b)).toBe(a.clientKey === b.clientKey && a.accountId === b.accountId);
          // The hash tag holds no brace but its own: Redis Cluster reads the first `{…}`.
          expect(tenantTag(a.clientKey)).toMatch(/^\{t:[A-Za-z0-9_-]+\}$/);
          expect(tenantTag(a.clientKey) === tenantTag(b.clientKey)).toBe(a.clientKey === b.clientKey);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe.each([
  ['memory', false],
  ['Redis', true],
])('token store isolation (%s)', (_name, useRedis) => {
  const keyPrefix = `jtr-app-test:${randomUUID()}:`;
  let redis: Redis | undefined;
  let manager: TokenManager;
  beforeAll(() => {
    redis = useRedis ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
    manager = createTokenManager({
      clientId: 'isolation',
      clientSecret: 'isolation-secret',
      ...(redis ? { redis, keyPrefix, encryptionKey: randomBytes(32).toString('base64') } : {}),
      recoveryIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await manager.close();
    await redis?.quit();
    await deleteKeys(keyPrefix);
  });

  test('hostile clientKeys and accountIds never share a record; a purge forgets its tenant only', async () => {
    const users = fc.uniqueArray(
      fc.oneof(
        fc.record({ clientKey: hostileText, accountId: hostileText }),
        fc.constantFrom(...NAIVE_COLLISIONS),
      ),
      {
        minLength: 2,
        maxLength: 6,
        selector: (u) => JSON.stringify(u),
      },
    );
    await fc.assert(
      fc.asyncProperty(users, async (drawn) => {
        // A run of its own: every clientKey gets a fresh suffix-free namespace by a run prefix.
        const run = randomUUID();
        const all = drawn.map((u) => ({ clientKey: `${run}${u.clientKey}`, accountId: u.accountId }));
        const accessTokens = new Map<string, string>();
        for (const u of all) {
          const access = `at-${randomUUID()}`;
          accessTokens.set(userId(u), access);
          await manager.save(u, {
            access_token: access,
            refresh_token: `rt-${randomUUID()}`,
            expires_in: 3600,
            token_type: 'Bearer',
            scope: 'read:jira-work offline_access',
          });
        }
        for (const u of all)
          expect((await manager.getAccessToken(u)).accessToken).toBe(accessTokens.get(userId(u)));
        const victim = all[0].clientKey;
        const purged = await manager.purgeTenant(victim);
        expect(purged).toBe(all.filter((u) => u.clientKey === victim).length);
        for (const u of all) {
          if (u.clientKey === victim) expect(await manager.status(u)).toBeNull();
          else expect((await manager.getAccessToken(u)).accessToken).toBe(accessTokens.get(userId(u)));
        }
        for (const clientKey of new Set(all.map((u) => u.clientKey))) await manager.purgeTenant(clientKey);
      }),
      { numRuns: useRedis ? 40 : 150 },
    );
  }, 60_000);
});
