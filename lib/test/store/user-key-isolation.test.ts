// User keys and store isolation: clientKeys and accountIds holding `:`, `{`, `}`, `*`, newlines or
// any unicode map to distinct keys, and purging a tenant forgets its users only, in both stores.

import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Redis from 'ioredis';
import { type TokenManager, type UserRef, createTokenManager } from '../../src';
import { assertUserRef, parseUserId, tenantTag, userId } from '../../src/store/user-key';
import { REDIS_URL, deleteKeys } from '../../../test/support/redis-keys';

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

describe('user keys', () => {
  const user = fc.record({ clientKey: hostileText, accountId: hostileText });

  test('a lone surrogate is refused: UTF-8 would give two such ids one key', () => {
    // The collision the check prevents: both lone surrogates encode as U+FFFD.
    expect(userId({ clientKey: 't', accountId: 'a\uD800' })).toBe(
      userId({ clientKey: 't', accountId: 'a\uDFFF' }),
    );
    for (const bad of ['a\uD800', 'a\uDFFF', '\uDC00b', 'x\uD83D']) {
      expect(() => assertUserRef({ clientKey: 't', accountId: bad })).toThrow(/well-formed/);
      expect(() => assertUserRef({ clientKey: bad, accountId: 'a' })).toThrow(/well-formed/);
    }
    // A pair is one code point, and fine.
    expect(() => assertUserRef({ clientKey: 't', accountId: 'a\uD83D\uDE00' })).not.toThrow();
  });

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
