// The hot path's memo of user ids: the same ids as userId, for any input, within its bound.

import { UserIdMemo } from '../../src/manager/user-id-memo';
import { userId } from '../../src/store/user-key';

describe('UserIdMemo', () => {
  test('gives the same id as userId, for tenants and accounts that share a map or not', () => {
    const memo = new UserIdMemo();
    const users = [
      { clientKey: 'a', accountId: 'b.c' },
      { clientKey: 'a.b', accountId: 'c' },
      { clientKey: 'a', accountId: 'x' },
      { clientKey: 'ünï{c}', accountId: 'line\nbreak' },
    ];
    for (const user of [...users, ...users]) expect(memo.get(user)).toBe(userId(user));
  });

  test('starts over past its bound and still gives the right ids', () => {
    const memo = new UserIdMemo(2);
    const user = (n: number) => ({ clientKey: 'tenant', accountId: `user-${n}` });
    for (let n = 0; n < 5; n++) expect(memo.get(user(n))).toBe(userId(user(n)));
    expect(memo.get(user(0))).toBe(userId(user(0)));
    // Never more entries than its bound.
    expect((memo as unknown as { size: number }).size).toBeLessThanOrEqual(2);
  });
});
