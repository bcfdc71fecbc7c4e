// InProcessNoticeChannel: notices fanned out in memory to one process's waiters and listeners.

import { LockUnavailableError } from '../../src/errors';
import { InProcessNoticeChannel } from '../../src/notice/in-process-notice-channel';
import type { Logger } from '../../src/logger';
import type { Notice } from '../../src/notice/notice';
import type { UserRef } from '../../src/types';

const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const bob: UserRef = { clientKey: 'tenant-1', accountId: 'bob' };

describe('InProcessNoticeChannel', () => {
  let channel: InProcessNoticeChannel;

  beforeEach(() => {
    channel = new InProcessNoticeChannel();
  });

  afterEach(async () => {
    await channel.close();
    jest.useRealTimers();
  });

  it('is not distributed, and ready at once', async () => {
    expect(channel.distributed).toBe(false);
    await expect(channel.ready()).resolves.toBeUndefined();
  });

  describe('notices', () => {
    it('wakes a waiter of the same user with the published notice', async () => {
      const wait = channel.waitForNotice(alice, 10_000);
      await channel.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
    });

    it('wakes every waiter of the user with one publish', async () => {
      const waits = Array.from({ length: 50 }, () => channel.waitForNotice(alice, 10_000));
      await channel.publish({ user: alice, kind: 'invalidated' });
      const notices = await Promise.all(waits.map((w) => w.promise));
      expect(notices).toEqual(Array(50).fill({ user: alice, kind: 'invalidated' }));
    });

    it('does not wake a waiter of another user, even one whose naive key would collide', async () => {
      jest.useFakeTimers();
      const other = channel.waitForNotice({ clientKey: 'a', accountId: 'b:c' }, 1_000);
      const sibling = channel.waitForNotice(bob, 1_000);
      const target = channel.waitForNotice({ clientKey: 'a:b', accountId: 'c' }, 1_000);

      await channel.publish({ user: { clientKey: 'a:b', accountId: 'c' }, kind: 'rotated' });
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
      await channel.publish({ user: alice, kind: 'rotated' });
      const wait = channel.waitForNotice(alice, 500);
      jest.advanceTimersByTime(500);
      await expect(wait.promise).resolves.toBeNull();
    });

    it('resolves null after ms and not a moment before, and clears its timer on a notice', async () => {
      jest.useFakeTimers();
      const timedOut = channel.waitForNotice(alice, 1_000);
      const settled = jest.fn();
      void timedOut.promise.then(settled);

      jest.advanceTimersByTime(999);
      await Promise.resolve();
      expect(settled).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      await expect(timedOut.promise).resolves.toBeNull();

      const woken = channel.waitForNotice(alice, 1_000);
      expect(jest.getTimerCount()).toBe(1);
      await channel.publish({ user: alice, kind: 'rotated' });
      await expect(woken.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      expect(jest.getTimerCount()).toBe(0);
    });

    it('cancel resolves null at once, clears the timer and removes the waiter', async () => {
      jest.useFakeTimers();
      const wait = channel.waitForNotice(alice, 60_000);
      expect(jest.getTimerCount()).toBe(1);
      wait.cancel();
      await expect(wait.promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);

      // A removed waiter stays settled with null; a later notice reaches only later waiters.
      const later = channel.waitForNotice(alice, 60_000);
      await channel.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toBeNull();
      await expect(later.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      wait.cancel();
    });

    it("wakes every waiter of a purged tenant, and no other tenant's", async () => {
      jest.useFakeTimers();
      const purged = { clientKey: 'tenant-1', accountId: '' };
      const sameTenant = [channel.waitForNotice(alice, 1_000), channel.waitForNotice(bob, 1_000)];
      // 'tenant-10' encodes to a string that starts with tenant-1's encoding.
      const otherTenant = channel.waitForNotice({ clientKey: 'tenant-10', accountId: 'alice' }, 1_000);
      const seen: Notice[] = [];
      channel.onNotice((notice) => seen.push(notice));

      await channel.publish({ user: purged, kind: 'tenant_purged' });
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
      const unsubscribe = channel.onNotice((notice) => seen.push(notice));
      await channel.publish({ user: alice, kind: 'rotated' });
      await channel.publish({ user: bob, kind: 'invalidated' });
      unsubscribe();
      await channel.publish({ user: alice, kind: 'invalidated' });
      expect(seen).toEqual([
        { user: alice, kind: 'rotated' },
        { user: bob, kind: 'invalidated' },
      ]);
    });

    it('still wakes waiters and other listeners when a listener throws, and logs it', async () => {
      const logger: Logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
      const logged = new InProcessNoticeChannel({ logger });
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
      const wait = channel.waitForNotice(alice, 2 ** 40);
      const settled = jest.fn();
      void wait.promise.then(settled);
      jest.advanceTimersByTime(1_000);
      await Promise.resolve();
      expect(settled).not.toHaveBeenCalled();
      wait.cancel();
      await expect(wait.promise).resolves.toBeNull();
    });

    it('rejects a malformed notice with a TypeError and a malformed wait too', async () => {
      await expect(channel.publish({ user: alice, kind: 'stolen' as 'rotated' })).rejects.toThrow(TypeError);
      await expect(channel.publish({ user: { clientKey: 'x' } as UserRef, kind: 'rotated' })).rejects.toThrow(
        TypeError,
      );
      await expect(channel.publish({ user: alice, kind: 'tenant_purged' })).rejects.toThrow(TypeError);
      await expect(
        channel.publish({ user: { clientKey: '', accountId: '' }, kind: 'tenant_purged' }),
      ).rejects.toThrow(TypeError);
      expect(() => channel.waitForNotice(alice, -1)).toThrow(TypeError);
      expect(() => channel.waitForNotice(alice, Number.NaN)).toThrow(TypeError);
    });
  });

  describe('close', () => {
    it('resolves pending waits with null, clears their timers, and refuses new work', async () => {
      jest.useFakeTimers();
      const wait = channel.waitForNotice(alice, 60_000);
      await channel.close();
      await expect(wait.promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);

      await expect(channel.ready()).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(channel.publish({ user: alice, kind: 'rotated' })).rejects.toEqual(
        expect.objectContaining({ code: 'jira_lock_unavailable' }),
      );
      await expect(channel.waitForNotice(alice, 60_000).promise).resolves.toBeNull();
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
