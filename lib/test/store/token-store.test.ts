// The TokenStore contract, run against MemoryTokenStore and RedisTokenStore alike.

import type { Logger } from '../../src/logger';
import { MemoryTokenStore } from '../../src/store/memory-token-store';
import type { StoredRecord, TokenStore } from '../../src/store/token-store';
import type { TokenRecord, UserRef } from '../../src/types';
import { storeImplementations } from '../../../test/support/store-implementations';

const T0 = 1_700_000_000_000;
const implementations = storeImplementations('contract');

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    generation: 'gen-1',
    version: 1,
    state: 'active',
    expiresAt: T0 + 3_600_000,
    lastRotatedAt: T0,
    familyStartedAt: T0,
    site: { cloudId: 'cloud-1', url: 'https://example.atlassian.net' },
    ciphertext: 'k1.AAAA',
    ...overrides,
  };
}

const rotatingUntil = (until: number): Partial<TokenRecord> => ({
  state: 'rotating',
  lease: { fence: `fence-${until}`, until, startedAt: until - 60_000 },
});
const inDoubtUntil = (deadline: number): Partial<TokenRecord> => ({
  state: 'in_doubt',
  inDoubt: { since: deadline - 540_000, deadline, reason: 'timeout' },
});
const backToActive: Partial<TokenRecord> = { state: 'active', lease: undefined, inDoubt: undefined };

/** Writes the next version of the user's record with `changes`, asserting the CAS won. */
async function advance(
  store: TokenStore,
  user: UserRef,
  changes: Partial<TokenRecord>,
): Promise<TokenRecord> {
  const current = await store.get(user);
  if (current === null) throw new Error('no record to advance');
  const next = { ...current, ...changes, version: current.version + 1 };
  await expect(store.compareAndSet(user, current, next)).resolves.toBe(true);
  return next;
}

const users = (listed: StoredRecord[]): UserRef[] => listed.map((entry) => entry.user);
const byId = (a: UserRef, b: UserRef): number =>
  `${a.clientKey}\u0000${a.accountId}` < `${b.clientKey}\u0000${b.accountId}` ? -1 : 1;

describe.each(implementations)('%s satisfies the TokenStore contract', (_name, createStore) => {
  const alice: UserRef = { clientKey: 'tenant-1', accountId: '557058:alice' };
  let store: TokenStore;

  beforeEach(() => {
    store = createStore();
  });

  afterEach(async () => {
    await store.close?.();
  });

  it('returns null for a user without a record', async () => {
    await expect(store.get(alice)).resolves.toBeNull();
  });

  it('creates a record with expected null only where none exists', async () => {
    await expect(store.compareAndSet(alice, null, record())).resolves.toBe(true);
    await expect(store.get(alice)).resolves.toEqual(record());

    await expect(
      store.compareAndSet(alice, null, record({ generation: 'gen-2', ciphertext: 'k1.BBBB' })),
    ).resolves.toBe(false);
    await expect(store.get(alice)).resolves.toEqual(record());
  });

  it('writes only over the exact expected generation and version', async () => {
    await store.compareAndSet(alice, null, record());

    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-1', version: 1 },
        record({ version: 2, ciphertext: 'v2' }),
      ),
    ).resolves.toBe(true);
    // Stale version: the record is at 2 now.
    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-1', version: 1 },
        record({ version: 2, ciphertext: 'late' }),
      ),
    ).resolves.toBe(false);
    // Right version, wrong generation.
    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-0', version: 2 },
        record({ version: 3, ciphertext: 'other' }),
      ),
    ).resolves.toBe(false);
    await expect(store.get(alice)).resolves.toEqual(record({ version: 2, ciphertext: 'v2' }));

    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-1', version: 2 },
        record({ version: 3, ciphertext: 'v3' }),
      ),
    ).resolves.toBe(true);
    await expect(store.get(alice)).resolves.toEqual(record({ version: 3, ciphertext: 'v3' }));
  });

  it('fails a compare-and-set against a deleted record and does not resurrect it', async () => {
    await store.compareAndSet(alice, null, record());
    await expect(store.delete(alice)).resolves.toBe(true);
    await expect(store.delete(alice)).resolves.toBe(false);

    await expect(
      store.compareAndSet(alice, { generation: 'gen-1', version: 1 }, record({ version: 2 })),
    ).resolves.toBe(false);
    await expect(store.get(alice)).resolves.toBeNull();
  });

  it('takes a new consent after a delete, and then rejects writes of the old generation', async () => {
    await store.compareAndSet(alice, null, record());
    await advance(store, alice, { ciphertext: 'old-v2' });
    await store.delete(alice);

    const consent = record({ generation: 'gen-2', version: 1, ciphertext: 'new' });
    await expect(store.compareAndSet(alice, null, consent)).resolves.toBe(true);
    // A late holder of the old family still believes in gen-1.
    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-1', version: 2 },
        record({ version: 3, ciphertext: 'late' }),
      ),
    ).resolves.toBe(false);
    await expect(
      store.compareAndSet(
        alice,
        { generation: 'gen-1', version: 1 },
        record({ version: 2, ciphertext: 'late' }),
      ),
    ).resolves.toBe(false);
    await expect(store.get(alice)).resolves.toEqual(consent);
  });

  it('deletes exactly one tenant, whatever characters the tenant and account ids hold', async () => {
    // Pairs that a naive `clientKey:accountId` key would confuse ('a' + 'b:c' vs 'a:b' + 'c'), and
    // characters meaningful to Redis keys, hash tags, glob patterns and logs.
    const everyone: UserRef[] = [
      { clientKey: 'a', accountId: 'b:c' },
      { clientKey: 'a', accountId: '557058:x' },
      { clientKey: 'a:b', accountId: 'c' },
      { clientKey: 'a:b', accountId: 'x' },
      { clientKey: 'ab', accountId: 'c' },
      { clientKey: 'x{y}', accountId: '}{:u:' },
      { clientKey: '*', accountId: '*' },
      { clientKey: 'line\nbreak', accountId: 'line\nbreak' },
      { clientKey: 'ünïcødé', accountId: 'ünïcødé:🙂' },
      { clientKey: '{t:YQ}', accountId: 'b:c' },
    ];
    for (const [i, user] of everyone.entries()) {
      await expect(store.compareAndSet(user, null, record({ lastRotatedAt: T0 + i }))).resolves.toBe(true);
    }

    const tenants = [...new Set(everyone.map((user) => user.clientKey))];
    let remaining = everyone;
    for (const clientKey of tenants) {
      const own = remaining.filter((user) => user.clientKey === clientKey);
      await expect(store.deleteTenant(clientKey)).resolves.toBe(own.length);
      remaining = remaining.filter((user) => user.clientKey !== clientKey);
      for (const user of own) await expect(store.get(user)).resolves.toBeNull();
      for (const user of remaining) await expect(store.get(user)).resolves.not.toBeNull();
      const idle = await store.listIdleSince(T0 + 1_000, 100);
      expect(users(idle).sort(byId)).toEqual([...remaining].sort(byId));
    }
    await expect(store.deleteTenant('a')).resolves.toBe(0);
    await expect(store.deleteTenant('never-installed')).resolves.toBe(0);
  });

  it('lists exactly the records in each non-active state, soonest deadline first', async () => {
    const u = (n: number): UserRef => ({ clientKey: 'tenant-1', accountId: `user-${n}` });
    for (let n = 1; n <= 6; n++) await store.compareAndSet(u(n), null, record());
    await advance(store, u(1), rotatingUntil(T0 + 60_000));
    await advance(store, u(2), inDoubtUntil(T0 + 540_000));
    await advance(store, u(3), { state: 'reauthorization_required' });
    await advance(store, u(5), inDoubtUntil(T0 + 300_000));
    await advance(store, u(6), { state: 'reauthorization_required' });

    await expect(store.listByState('rotating', 10).then(users)).resolves.toEqual([u(1)]);
    await expect(store.listByState('in_doubt', 10).then(users)).resolves.toEqual([u(5), u(2)]);
    await expect(store.listByState('in_doubt', 1).then(users)).resolves.toEqual([u(5)]);
    await expect(store.listByState('in_doubt', 0)).resolves.toEqual([]);
    const reauth = await store.listByState('reauthorization_required', 10);
    expect(users(reauth).sort(byId)).toEqual([u(3), u(6)]);
    const [listed] = await store.listByState('rotating', 10);
    expect(listed.record).toEqual(await store.get(u(1)));

    // A rotation that ends, and an in-doubt rotation that is recovered, leave their indexes.
    await advance(store, u(1), backToActive);
    await advance(store, u(5), backToActive);
    await advance(store, u(2), { ...backToActive, state: 'reauthorization_required' });
    await expect(store.listByState('rotating', 10)).resolves.toEqual([]);
    await expect(store.listByState('in_doubt', 10)).resolves.toEqual([]);
    const after = await store.listByState('reauthorization_required', 10);
    expect(users(after).sort(byId)).toEqual([u(2), u(3), u(6)]);

    await store.delete(u(3));
    await store.deleteTenant('tenant-1');
    await expect(store.listByState('reauthorization_required', 10)).resolves.toEqual([]);
  });

  it('lists records idle since an instant, oldest first, up to the limit', async () => {
    const u = (n: number): UserRef => ({ clientKey: 'tenant-1', accountId: `user-${n}` });
    const rotatedAt = [T0 + 3_000, T0 + 1_000, T0 + 2_000, T0 + 5_000];
    for (const [i, at] of rotatedAt.entries()) {
      await store.compareAndSet(u(i), null, record({ lastRotatedAt: at }));
    }

    await expect(store.listIdleSince(T0 + 5_000, 10).then(users)).resolves.toEqual([u(1), u(2), u(0)]);
    await expect(store.listIdleSince(T0 + 5_000, 2).then(users)).resolves.toEqual([u(1), u(2)]);
    // Strictly before.
    await expect(store.listIdleSince(T0 + 1_000, 10)).resolves.toEqual([]);
    await expect(store.listIdleSince(T0 + 5_001, 0)).resolves.toEqual([]);

    // A rotation moves a user to the back; a delete removes it.
    await advance(store, u(1), { lastRotatedAt: T0 + 4_000 });
    await store.delete(u(2));
    const listed = await store.listIdleSince(T0 + 10_000, 10);
    expect(users(listed)).toEqual([u(0), u(1), u(3)]);
    expect(listed.map((entry) => entry.record.lastRotatedAt)).toEqual([T0 + 3_000, T0 + 4_000, T0 + 5_000]);
  });

  it('hands out copies: no caller can change a stored record except by compare-and-set', async () => {
    const written = record();
    await store.compareAndSet(alice, null, written);
    written.ciphertext = 'changed after the write';
    written.site!.url = 'https://evil.example';

    const read = (await store.get(alice))!;
    read.version = 99;
    read.site!.cloudId = 'changed after the read';
    const [listed] = await store.listIdleSince(T0 + 1, 1);
    listed.record.state = 'reauthorization_required';

    await expect(store.get(alice)).resolves.toEqual(record());
  });

  it('rejects caller bugs with a TypeError and writes nothing', async () => {
    await store.compareAndSet(alice, null, record({ version: 3 }));
    const expected = { generation: 'gen-1', version: 3 };

    await expect(store.compareAndSet(alice, expected, record({ version: 3 }))).rejects.toThrow(TypeError);
    await expect(store.compareAndSet(alice, expected, record({ version: 2 }))).rejects.toThrow(
      'must be greater than expected.version',
    );
    await expect(
      store.compareAndSet(alice, expected, record({ version: 4, ciphertext: '' })),
    ).rejects.toThrow(TypeError);
    await expect(
      store.compareAndSet(alice, expected, {
        ...record({ version: 4 }),
        state: 'paused',
      } as unknown as TokenRecord),
    ).rejects.toThrow(TypeError);
    await expect(store.compareAndSet({ clientKey: '', accountId: 'x' }, null, record())).rejects.toThrow(
      TypeError,
    );
    await expect(store.get({ clientKey: 'tenant-1' } as UserRef)).rejects.toThrow(TypeError);
    await expect(store.deleteTenant('')).rejects.toThrow(TypeError);
    await expect(store.listByState('active' as 'rotating', 10)).rejects.toThrow(TypeError);
    await expect(store.listByState('in_doubt', -1)).rejects.toThrow(TypeError);
    await expect(store.listIdleSince(Number.NaN, 10)).rejects.toThrow(TypeError);

    await expect(store.get(alice)).resolves.toEqual(record({ version: 3 }));
  });

  it('lets exactly one of 20 concurrent writers of the same version win', async () => {
    await store.compareAndSet(alice, null, record());
    const expected = { generation: 'gen-1', version: 1 };

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.compareAndSet(
          alice,
          expected,
          record({ version: 2, ...rotatingUntil(T0 + i), ciphertext: `w${i}` }),
        ),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    await expect(store.get(alice)).resolves.toEqual(
      record({ version: 2, ...rotatingUntil(T0 + winner), ciphertext: `w${winner}` }),
    );
    await expect(store.listByState('rotating', 10).then(users)).resolves.toEqual([alice]);
  });

  it('lets exactly one of 20 concurrent first consents win', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.compareAndSet(alice, null, record({ generation: `gen-${i}` })),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    await expect(store.get(alice)).resolves.toEqual(record({ generation: `gen-${results.indexOf(true)}` }));
  });
});

describe('MemoryTokenStore', () => {
  const originalEnv = process.env.NODE_ENV;

  afterEach(() => {
    process.env.NODE_ENV = originalEnv;
  });

  const recordingLogger = (): Logger & { warn: jest.Mock } => ({
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
  });

  it('warns once, at construction, that it is a single-process store in production', async () => {
    process.env.NODE_ENV = 'production';
    const logger = recordingLogger();

    const store = new MemoryTokenStore({ logger });
    await store.compareAndSet({ clientKey: 'c', accountId: 'a' }, null, record());
    await store.get({ clientKey: 'c', accountId: 'a' });

    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      { event: 'in_process_store', store: 'MemoryTokenStore' },
      expect.stringContaining('keeps Jira tokens in this process only'),
    );
  });

  it('does not warn outside production', () => {
    process.env.NODE_ENV = 'test';
    const logger = recordingLogger();

    new MemoryTokenStore({ logger });

    expect(logger.warn).not.toHaveBeenCalled();
  });
});
