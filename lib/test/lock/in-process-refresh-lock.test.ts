// InProcessRefreshLock: per-user exclusion and in-memory notices, the embedded default's RefreshLock.

import { LockUnavailableError } from '../../src/errors';
import { InProcessRefreshLock } from '../../src/lock/in-process-refresh-lock';
import type { Logger } from '../../src/logger';
import type { Notice } from '../../src/lock/refresh-lock';
import type { UserRef } from '../../src/types';

const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const bob: UserRef = { clientKey: 'tenant-1', accountId: 'bob' };

/** A promise and the function that resolves it, to hold a lock exactly as long as a test needs. */
function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('InProcessRefreshLock', () => {
  let lock: InProcessRefreshLock;

  beforeEach(() => {
    lock = new InProcessRefreshLock();
  });

  afterEach(async () => {
    await lock.close();
    jest.useRealTimers();
  });

  it('is not distributed, and ready at once', async () => {
    expect(lock.distributed).toBe(false);
    await expect(lock.ready()).resolves.toBeUndefined();
  });

  describe('tryWithJobLock', () => {
    it('excludes a second holder of the same job only, and admits one after release', async () => {
      const gate = deferred();
      const entered = deferred();
      const held = lock.tryWithJobLock('keepalive', async () => {
        entered.resolve();
        await gate.promise;
        return 'first';
      });
      await entered.promise;
      const fn = jest.fn(async () => 'second');
      await expect(lock.tryWithJobLock('keepalive', fn)).resolves.toEqual({ acquired: false });
      expect(fn).not.toHaveBeenCalled();
      await expect(lock.tryWithLock(alice, fn)).resolves.toEqual({ acquired: true, value: 'second' });
      gate.resolve();
      await expect(held).resolves.toEqual({ acquired: true, value: 'first' });
      await expect(lock.tryWithJobLock('keepalive', fn)).resolves.toEqual({
        acquired: true,
        value: 'second',
      });
    });

    it.each(['', 'Keepalive', 'a:b', 'x'.repeat(33)])('refuses the job name %p', async (job) => {
      await expect(lock.tryWithJobLock(job, async () => 1)).rejects.toThrow(TypeError);
    });
  });

  describe('tryWithLock', () => {
    it('excludes a second holder of the same user while the first runs, and admits one after release', async () => {
      const gate = deferred();
      const entered = deferred();
      const first = lock.tryWithLock(alice, async () => {
        entered.resolve();
        await gate.promise;
        return 'first';
      });
      await entered.promise;

      const fn = jest.fn(async () => 'second');
      await expect(lock.tryWithLock(alice, fn)).resolves.toEqual({ acquired: false });
      expect(fn).not.toHaveBeenCalled();

      gate.resolve();
      await expect(first).resolves.toEqual({ acquired: true, value: 'first' });
      await expect(lock.tryWithLock(alice, fn)).resolves.toEqual({ acquired: true, value: 'second' });
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('lets only one of two calls made in the same tick win', async () => {
      const results = await Promise.all([
        lock.tryWithLock(alice, async () => 1),
        lock.tryWithLock(alice, async () => 2),
      ]);
      expect(results).toEqual([{ acquired: true, value: 1 }, { acquired: false }]);
    });

    it('does not exclude another user, nor users whose naive `clientKey:accountId` keys collide', async () => {
      const gate = deferred();
      const first = lock.tryWithLock({ clientKey: 'a:b', accountId: 'c' }, () =>
        gate.promise.then(() => 'x'),
      );
      await expect(lock.tryWithLock(bob, async () => 'bob')).resolves.toEqual({
        acquired: true,
        value: 'bob',
      });
      await expect(lock.tryWithLock({ clientKey: 'a', accountId: 'b:c' }, async () => 'y')).resolves.toEqual({
        acquired: true,
        value: 'y',
      });
      gate.resolve();
      await expect(first).resolves.toEqual({ acquired: true, value: 'x' });
    });

    it("propagates fn's rejection and releases the lock", async () => {
      const failure = new Error('boom');
      await expect(lock.tryWithLock(alice, async () => Promise.reject(failure))).rejects.toBe(failure);
      await expect(lock.tryWithLock(alice, async () => 'next')).resolves.toEqual({
        acquired: true,
        value: 'next',
      });
    });

    it('releases the lock when fn throws synchronously', async () => {
      const failure = new Error('sync boom');
      const fn = (() => {
        throw failure;
      }) as unknown as () => Promise<never>;
      await expect(lock.tryWithLock(alice, fn)).rejects.toBe(failure);
      await expect(lock.tryWithLock(alice, async () => 'next')).resolves.toEqual({
        acquired: true,
        value: 'next',
      });
    });

    it('hands fn a signal that is not aborted', async () => {
      const result = await lock.tryWithLock(alice, async (signal) => signal.aborted);
      expect(result).toEqual({ acquired: true, value: false });
    });

    it('rejects malformed arguments with a TypeError', async () => {
      await expect(lock.tryWithLock({ clientKey: '', accountId: 'x' }, async () => 1)).rejects.toThrow(
        TypeError,
      );
      await expect(lock.tryWithLock(alice, undefined as unknown as () => Promise<number>)).rejects.toThrow(
        TypeError,
      );
    });
  });

  describe('notices', () => {
    it('wakes a waiter of the same user with the published notice', async () => {
      const wait = lock.waitForNotice(alice, 10_000);
      await lock.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
    });

    it('wakes every waiter of the user with one publish', async () => {
      const waits = Array.from({ length: 50 }, () => lock.waitForNotice(alice, 10_000));
      await lock.publish({ user: alice, kind: 'invalidated' });
      const notices = await Promise.all(waits.map((w) => w.promise));
      expect(notices).toEqual(Array(50).fill({ user: alice, kind: 'invalidated' }));
    });

    it('does not wake a waiter of another user, even one whose naive key would collide', async () => {
      jest.useFakeTimers();
      const other = lock.waitForNotice({ clientKey: 'a', accountId: 'b:c' }, 1_000);
      const sibling = lock.waitForNotice(bob, 1_000);
      const target = lock.waitForNotice({ clientKey: 'a:b', accountId: 'c' }, 1_000);

      await lock.publish({ user: { clientKey: 'a:b', accountId: 'c' }, kind: 'rotated' });
      await expect(target.promise).resolves.toEqual({
        user: { clientKey: 'a:b', accountId: 'c' },
        kind: 'rotated',
      });

      jest.advanceTimersByTime(1_000);
      await expect(other.promise).resolves.toBeNull();
      await expect(sibling.promise).resolves.toBeNull();
    });

    it('only delivers notices published after the wait began', async () => {
      jest.useFakeTimers();
      await lock.publish({ user: alice, kind: 'rotated' });
      const wait = lock.waitForNotice(alice, 500);
      jest.advanceTimersByTime(500);
      await expect(wait.promise).resolves.toBeNull();
    });

    it('resolves null after ms and not a moment before, and clears its timer on a notice', async () => {
      jest.useFakeTimers();
      const timedOut = lock.waitForNotice(alice, 1_000);
      const settled = jest.fn();
      void timedOut.promise.then(settled);

      jest.advanceTimersByTime(999);
      await Promise.resolve();
      expect(settled).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      await expect(timedOut.promise).resolves.toBeNull();

      const woken = lock.waitForNotice(alice, 1_000);
      expect(jest.getTimerCount()).toBe(1);
      await lock.publish({ user: alice, kind: 'rotated' });
      await expect(woken.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      expect(jest.getTimerCount()).toBe(0);
    });

    it('cancel resolves null at once, clears the timer and removes the waiter', async () => {
      jest.useFakeTimers();
      const wait = lock.waitForNotice(alice, 60_000);
      expect(jest.getTimerCount()).toBe(1);
      wait.cancel();
      await expect(wait.promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);

      // A removed waiter stays settled with null; a later notice reaches only later waiters.
      const later = lock.waitForNotice(alice, 60_000);
      await lock.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toBeNull();
      await expect(later.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      wait.cancel();
    });

    it("wakes every waiter of a purged tenant, and no other tenant's", async () => {
      jest.useFakeTimers();
      const purged = { clientKey: 'tenant-1', accountId: '' };
      const sameTenant = [lock.waitForNotice(alice, 1_000), lock.waitForNotice(bob, 1_000)];
      // 'tenant-10' encodes to a string that starts with tenant-1's encoding.
      const otherTenant = lock.waitForNotice({ clientKey: 'tenant-10', accountId: 'alice' }, 1_000);
      const seen: Notice[] = [];
      lock.onNotice((notice) => seen.push(notice));

      await lock.publish({ user: purged, kind: 'tenant_purged' });
      await expect(Promise.all(sameTenant.map((w) => w.promise))).resolves.toEqual([
        { user: purged, kind: 'tenant_purged' },
        { user: purged, kind: 'tenant_purged' },
      ]);
      expect(seen).toEqual([{ user: purged, kind: 'tenant_purged' }]);
      jest.advanceTimersByTime(1_000);
      await expect(otherTenant.promise).resolves.toBeNull();
    });

    it('calls onNotice listeners for every notice until they unsubscribe', async () => {
      const seen: Notice[] = [];
      const unsubscribe = lock.onNotice((notice) => seen.push(notice));
      await lock.publish({ user: alice, kind: 'rotated' });
      await lock.publish({ user: bob, kind: 'invalidated' });
      unsubscribe();
      await lock.publish({ user: alice, kind: 'invalidated' });
      expect(seen).toEqual([
        { user: alice, kind: 'rotated' },
        { user: bob, kind: 'invalidated' },
      ]);
    });

    it('still wakes waiters and other listeners when a listener throws, and logs it', async () => {
      const logger: Logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
      const logged = new InProcessRefreshLock({ logger });
      const seen: Notice[] = [];
      logged.onNotice(() => {
        throw new Error('listener bug');
      });
      logged.onNotice((notice) => seen.push(notice));
      const wait = logged.waitForNotice(alice, 10_000);
      await logged.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      expect(seen).toEqual([{ user: alice, kind: 'rotated' }]);
      expect(logger.error).toHaveBeenCalledTimes(1);
      await logged.close();
    });

    it('keeps a wait longer than a timer can hold pending instead of ending it at once', async () => {
      jest.useFakeTimers();
      const wait = lock.waitForNotice(alice, 2 ** 40);
      const settled = jest.fn();
      void wait.promise.then(settled);
      jest.advanceTimersByTime(1_000);
      await Promise.resolve();
      expect(settled).not.toHaveBeenCalled();
      wait.cancel();
      await expect(wait.promise).resolves.toBeNull();
    });

    it('rejects a malformed notice with a TypeError and a malformed wait too', async () => {
      await expect(lock.publish({ user: alice, kind: 'stolen' as 'rotated' })).rejects.toThrow(TypeError);
      await expect(lock.publish({ user: { clientKey: 'x' } as UserRef, kind: 'rotated' })).rejects.toThrow(
        TypeError,
      );
      await expect(lock.publish({ user: alice, kind: 'tenant_purged' })).rejects.toThrow(TypeError);
      await expect(
        lock.publish({ user: { clientKey: '', accountId: '' }, kind: 'tenant_purged' }),
      ).rejects.toThrow(TypeError);
      expect(() => lock.waitForNotice(alice, -1)).toThrow(TypeError);
      expect(() => lock.waitForNotice(alice, Number.NaN)).toThrow(TypeError);
    });
  });

  describe('close', () => {
    it('resolves pending waits with null, clears their timers, and refuses new work', async () => {
      jest.useFakeTimers();
      const wait = lock.waitForNotice(alice, 60_000);
      await lock.close();
      await expect(wait.promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);

      await expect(lock.tryWithLock(alice, async () => 1)).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(lock.ready()).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(lock.publish({ user: alice, kind: 'rotated' })).rejects.toEqual(
        expect.objectContaining({ code: 'jira_lock_unavailable' }),
      );
      await expect(lock.waitForNotice(alice, 60_000).promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('lets a running holder finish', async () => {
      const gate = deferred();
      const entered = deferred();
      const running = lock.tryWithLock(alice, async () => {
        entered.resolve();
        await gate.promise;
        return 'done';
      });
      await entered.promise;
      await lock.close();
      gate.resolve();
      await expect(running).resolves.toEqual({ acquired: true, value: 'done' });
    });
  });
});
