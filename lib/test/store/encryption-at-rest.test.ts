// Invariant 7 against real Redis: nothing in clear at rest, records bound to their user and
// generation, and encryption keys that rotate without losing anyone.

import { createHash, randomBytes } from 'node:crypto';
import { RecordUnreadableError, createTokenManager } from '../../src';
import { encodeAccountId, tenantTag } from '../../src/store/user-key';
import type { UserRef } from '../../src';
import { HOUR, REDIS_URL, SITE, type Harness, createHarness } from '../../../test/support/manager-harness';

const recordKey = (prefix: string, user: UserRef): string =>
  `${prefix}${tenantTag(user.clientKey)}:u:${encodeAccountId(user.accountId)}`;
const keyId = (base64: string): string =>
  createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex').slice(0, 8);

describe('encrypted at rest (Redis)', () => {
  let h: Harness;
  afterEach(async () => h.close());

  test('raw Redis holds no token in clear, in any key the manager wrote', async () => {
    h = await createHarness('redis');
    await h.consent();
    h.expire();
    await h.manager.getAccessToken(h.user);
    const keys = await h.redis!.keys(`${h.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    let dump = '';
    for (const key of keys) {
      const type = await h.redis!.type(key);
      if (type === 'hash') dump += JSON.stringify(await h.redis!.hgetall(key));
      else if (type === 'zset') dump += JSON.stringify(await h.redis!.zrange(key, 0, -1));
      else if (type === 'set') dump += JSON.stringify(await h.redis!.smembers(key));
      else if (type === 'string') dump += (await h.redis!.get(key)) ?? '';
    }
    expect(h.probe.secrets.size).toBe(4);
    for (const secret of h.probe.secrets) expect(dump.includes(secret)).toBe(false);
    expect(dump).toMatch(/ciphertext\W{1,8}v1\.[0-9a-f]{8}\./);
  });

  test("a record copied under another user's key fails to decrypt, and costs no token request", async () => {
    h = await createHarness('redis');
    await h.consent();
    const thief = { clientKey: h.user.clientKey, accountId: 'sim-user-2' };
    const raw = await h.redis!.hgetall(recordKey(h.keyPrefix, h.user));
    await h.redis!.hset(recordKey(h.keyPrefix, thief), raw);
    await expect(h.manager.getAccessToken(thief)).rejects.toBeInstanceOf(RecordUnreadableError);
    expect(h.logger.events('record_unreadable')).toHaveLength(1);
    expect(h.probe.tokenRequests).toBe(0);
  });

  test('key rotation: records under the old key still decrypt, and new writes use the new key', async () => {
    h = await createHarness('redis');
    await h.consent(); // written under the harness key, K1
    const k1 = h.encryptionKey;
    const k2 = randomBytes(32).toString('base64');
    const make = (encryptionKey: string[]) =>
      h.sibling({ encryptionKey, redis: h.redis, tokenUrl: h.server.tokenUrl });
    const rotated = make([k2, k1]);
    const before = await rotated.getAccessToken(h.user);
    expect(before.cloudId).toBe(SITE.cloudId);
    h.server.sim.clock.advance(HOUR + 1);
    await rotated.getAccessToken(h.user);
    const stored = JSON.parse((await h.redis!.hget(recordKey(h.keyPrefix, h.user), 'record'))!) as {
      ciphertext: string;
    };
    expect(stored.ciphertext.split('.')[1]).toBe(keyId(k2));
    // Only the new key is needed from now on; a process with the old key alone can no longer read.
    await expect(make([k2]).getAccessToken(h.user)).resolves.toHaveProperty('accessToken');
    await expect(make([k1]).getAccessToken(h.user)).rejects.toBeInstanceOf(RecordUnreadableError);
  });
});

test('a shared store without an encryption key is refused', () => {
  expect(() =>
    createTokenManager({ clientId: 'x', clientSecret: 'y', redis: REDIS_URL, encryptionKey: undefined }),
  ).toThrow(/encryptionKey/);
});
