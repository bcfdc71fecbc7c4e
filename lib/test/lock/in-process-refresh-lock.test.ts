// InProcessRefreshLock: per-user exclusion inside one process, the embedded default's RefreshLock.

import { LockUnavailableError } from '../../src/errors';
import { InProcessRefreshLock } from '../../src/lock/in-process-refresh-lock';
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

  it('is not distributed', () => {
    expect(lock.distributed).toBe(false);
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

  describe('close', () => {
    it('refuses new work', async () => {
      await lock.close();
      await expect(lock.tryWithLock(alice, async () => 1)).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(lock.tryWithJobLock('keepalive', async () => 1)).rejects.toEqual(
        expect.objectContaining({ code: 'jira_lock_unavailable' }),
      );
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
