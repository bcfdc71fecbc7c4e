// The cursor listings of the TokenStore (listTenant, listAll), run against both stores: every
// record stored for the whole listing comes back, a tenant's listing holds that tenant only.

import type { StoredPage, StoredRecord, TokenStore } from '../../src/store/token-store';
import type { TokenRecord, UserRef } from '../../src/types';
import { storeImplementations } from '../../../test/support/store-implementations';

const T0 = 1_700_000_000_000;
const implementations = storeImplementations('listing');

function record(i: number): TokenRecord {
  return {
    generation: `gen-${i}`,
    version: 1,
    state: 'active',
    expiresAt: T0 + 3_600_000,
    lastRotatedAt: T0 + i,
    familyStartedAt: T0,
    ciphertext: 'k1.AAAA',
  };
}

async function seed(store: TokenStore, clientKey: string, count: number): Promise<UserRef[]> {
  const users = Array.from({ length: count }, (_, i) => ({ clientKey, accountId: `acc:${i}` }));
  await Promise.all(users.map((user, i) => store.compareAndSet(user, null, record(i))));
  return users;
}

/** Every page of a listing, following its cursors. */
async function drain(list: (cursor: string | undefined) => Promise<StoredPage>): Promise<StoredRecord[]> {
  const all: StoredRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    all.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

const ids = (listed: StoredRecord[]): string[] =>
  [...new Set(listed.map(({ user }) => `${user.clientKey}/${user.accountId}`))].sort();
const idsOf = (users: UserRef[]): string[] => users.map((u) => `${u.clientKey}/${u.accountId}`).sort();

describe.each(implementations)('%s cursor listings', (_name, createStore) => {
  let store: TokenStore;
  beforeEach(() => {
    store = createStore();
  });

  test("listTenant pages through exactly one tenant's records", async () => {
    const mine = await seed(store, 'tenant-a', 250);
    await seed(store, 'tenant-b', 30);
    const listed = await drain((cursor) => store.listTenant!('tenant-a', cursor, 50));
    expect(ids(listed)).toEqual(idsOf(mine));
    expect(listed.every(({ record: r }) => r.generation.startsWith('gen-'))).toBe(true);
  });

  test('listTenant of an unknown tenant is one empty, final page', async () => {
    await seed(store, 'tenant-a', 3);
    await expect(store.listTenant!('nobody', undefined, 10)).resolves.toEqual({ records: [] });
  });

  test('listAll covers every tenant, and no deleted record', async () => {
    const a = await seed(store, 'tenant-a', 120);
    await seed(store, 'tenant-b', 80);
    await store.delete(a[0]);
    await store.deleteTenant('tenant-b');
    const listed = await drain((cursor) => store.listAll!(cursor, 40));
    expect(ids(listed)).toEqual(idsOf(a.slice(1)));
  });

  test('records rewritten during the listing are still listed', async () => {
    const users = await seed(store, 'tenant-a', 200);
    const listed: StoredRecord[] = [];
    let cursor: string | undefined;
    let rewritten = false;
    do {
      const page = await store.listAll!(cursor, 30);
      listed.push(...page.records);
      cursor = page.cursor;
      if (!rewritten) {
        // A rotation of every record moves each to the end of the idle index.
        rewritten = true;
        for (const [i, user] of users.entries()) {
          const current = (await store.get(user))!;
          const next = { ...current, version: 2, lastRotatedAt: T0 + 10_000 + i };
          await expect(store.compareAndSet(user, current, next)).resolves.toBe(true);
        }
      }
    } while (cursor !== undefined);
    expect(ids(listed)).toEqual(idsOf(users));
  });

  test('a bad cursor or limit is a TypeError', async () => {
    await expect(store.listAll!('not-a-cursor', 10)).rejects.toThrow(TypeError);
    await expect(store.listAll!(undefined, 0)).rejects.toThrow(TypeError);
    await expect(store.listTenant!('', undefined, 10)).rejects.toThrow(TypeError);
    await expect(store.listTenant!('t', '1 2', 10)).rejects.toThrow(TypeError);
  });
});
