// RedlockRefreshLock against real Redis: exclusion across instances, extension, failures.

import { setTimeout as delay } from 'node:timers/promises';
import { runInThisContext } from 'node:vm';
import type { Redis } from 'ioredis';
import { LockUnavailableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import { RedlockRefreshLock } from '../../src/redis/redlock-refresh-lock';
import type { RedlockRefreshLockOptions } from '../../src/redis/redlock-refresh-lock';
import type { UserRef } from '../../src/types';
import { encodeAccountId, tenantTag } from '../../src/store/user-key';
import { REDIS_PORT, freePort, recordingLogger, startRedisServer, useRedisSuite } from './redis-fixtures';

const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const bob: UserRef = { clientKey: 'tenant-1', accountId: 'bob' };

// Jest hands tests a sandboxed `process` whose listeners never hear the real process's events.
const realProcess = runInThisContext('process') as NodeJS.Process;

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('RedlockRefreshLock', () => {
  const suite = useRedisSuite();
  const { client, cleanups } = suite;
  let admin: Redis;
  let prefix: string;
  let lockKey: (user: UserRef) => string;

  /** A lock on its own client, as one app process would have; closed after the test. */
  function lock(options: Partial<RedlockRefreshLockOptions> = {}): RedlockRefreshLock {
    const instance = new RedlockRefreshLock({ redis: client(), keyPrefix: prefix, ...options });
    cleanups.unshift(() => instance.close());
    return instance;
  }

  beforeEach(() => {
    ({ admin, prefix } = suite);
    lockKey = (user) => `${prefix}${tenantTag(user.clientKey)}:lock:${encodeAccountId(user.accountId)}`;
  });

  it('is distributed', () => {
    expect(lock().distributed).toBe(true);
  });

  describe('tryWithLock', () => {
    it('excludes a second process while the first holds the lock, then admits it; no key is left behind', async () => {
      const a = lock();
      const b = lock();
      const gate = deferred();
      const entered = deferred();
      const held = a.tryWithLock(alice, async (signal) => {
        entered.resolve();
        await gate.promise;
        return signal.aborted;
      });
      await entered.promise;

      const pttl = await admin.pttl(lockKey(alice));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(40_000);
      const fn = jest.fn(async () => 'b');
      await expect(b.tryWithLock(alice, fn)).resolves.toEqual({ acquired: false });
      expect(fn).not.toHaveBeenCalled();

      gate.resolve();
      await expect(held).resolves.toEqual({ acquired: true, value: false });
      expect(await admin.exists(lockKey(alice))).toBe(0);

      await expect(b.tryWithLock(alice, fn)).resolves.toEqual({ acquired: true, value: 'b' });
      expect(await admin.exists(lockKey(alice))).toBe(0);
    });

    it('lets exactly one of many simultaneous attempts from two processes win', async () => {
      const a = lock();
      const b = lock();
      const gate = deferred();
      // The winner holds on until all nine others have answered, so none can come after it.
      let answered = 0;
      const attempts = Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b)
          .tryWithLock(alice, () => gate.promise)
          .then((result) => {
            if (!result.acquired && ++answered === 9) gate.resolve();
            return result;
          }),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      expect(results.filter((r) => !r.acquired)).toHaveLength(9);
      expect(await admin.exists(lockKey(alice))).toBe(0);
    });

    it('does not exclude other users, even those whose naive `clientKey:accountId` keys collide', async () => {
      const a = lock();
      const gate = deferred();
      const held = a.tryWithLock({ clientKey: 'a:b', accountId: 'c' }, () => gate.promise.then(() => 1));
      await expect(lock().tryWithLock({ clientKey: 'a', accountId: 'b:c' }, async () => 2)).resolves.toEqual({
        acquired: true,
        value: 2,
      });
      await expect(lock().tryWithLock(bob, async () => 3)).resolves.toEqual({ acquired: true, value: 3 });
      gate.resolve();
      await expect(held).resolves.toEqual({ acquired: true, value: 1 });
    });

    it("propagates fn's rejection after releasing the lock", async () => {
      const a = lock();
      const failure = new Error('boom');
      await expect(a.tryWithLock(alice, async () => Promise.reject(failure))).rejects.toBe(failure);
      expect(await admin.exists(lockKey(alice))).toBe(0);
      await expect(lock().tryWithLock(alice, async () => 'next')).resolves.toEqual({
        acquired: true,
        value: 'next',
      });
    });

    it('keeps the lock past its TTL by extending it while fn runs', async () => {
      // Extended with half its TTL left, so a busy CI machine's event loop lag cannot lose it.
      const a = lock({ lockTtlMs: 1_000, extensionThresholdMs: 500 });
      const b = lock({ lockTtlMs: 1_000 });
      const result = await a.tryWithLock(alice, async (signal) => {
        const token = await admin.get(lockKey(alice));
        // The real clock on purpose: expiry is what this test is about.
        await delay(2_500);
        return {
          aborted: signal.aborted,
          sameToken: (await admin.get(lockKey(alice))) === token,
          pttl: await admin.pttl(lockKey(alice)),
          other: await b.tryWithLock(alice, async () => 'stolen'),
        };
      });
      expect(result.acquired).toBe(true);
      const value = (
        result as { value: { aborted: boolean; sameToken: boolean; pttl: number; other: unknown } }
      ).value;
      expect(value.aborted).toBe(false);
      expect(value.sameToken).toBe(true);
      expect(value.pttl).toBeGreaterThan(0);
      expect(value.pttl).toBeLessThanOrEqual(1_000);
      expect(value.other).toEqual({ acquired: false });
      expect(await admin.exists(lockKey(alice))).toBe(0);
    });

    it('aborts the signal when another holder took the key, and leaves that holder its key', async () => {
      const logger = recordingLogger();
      const a = lock({ lockTtlMs: 1_000, logger });
      const result = await a.tryWithLock(alice, async (signal) => {
        await admin.set(lockKey(alice), 'thief', 'PX', 30_000);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return signal.reason;
      });
      expect(result).toEqual({ acquired: true, value: expect.any(LockUnavailableError) });
      expect(await admin.get(lockKey(alice))).toBe('thief');
      expect(logger.warn).toHaveBeenCalledWith(
        expect.anything(),
        'Lost the refresh lock: another holder has it',
      );
    });

    it('puts the lock in the database of the client it was given', async () => {
      const redis = client({ db: 1 });
      const instance = new RedlockRefreshLock({ redis, keyPrefix: prefix });
      cleanups.unshift(() => instance.close());
      await instance.tryWithLock(alice, async () => {
        expect(await redis.pttl(lockKey(alice))).toBeGreaterThan(0);
        expect(await admin.exists(lockKey(alice))).toBe(0);
      });
      expect(await redis.exists(lockKey(alice))).toBe(0);
    });
  });

  describe('tryWithJobLock', () => {
    it('excludes a second process from the same job, apart from every user lock, and leaves no key', async () => {
      const a = lock();
      const b = lock();
      const gate = deferred();
      const entered = deferred();
      const held = a.tryWithJobLock('keepalive', async () => {
        entered.resolve();
        await gate.promise;
        return 'a';
      });
      await entered.promise;
      expect(await admin.pttl(`${prefix}job:keepalive`)).toBeGreaterThan(0);
      const fn = jest.fn(async () => 'b');
      await expect(b.tryWithJobLock('keepalive', fn)).resolves.toEqual({ acquired: false });
      expect(fn).not.toHaveBeenCalled();
      // Other jobs and users are not held by it.
      await expect(b.tryWithJobLock('other-job', fn)).resolves.toEqual({ acquired: true, value: 'b' });
      await expect(b.tryWithLock(alice, fn)).resolves.toEqual({ acquired: true, value: 'b' });
      gate.resolve();
      await expect(held).resolves.toEqual({ acquired: true, value: 'a' });
      expect(await admin.exists(`${prefix}job:keepalive`)).toBe(0);
    });

    it.each(['', 'Keepalive', 'a:b', '{t}', 'x'.repeat(33)])('refuses the job name %p', async (job) => {
      await expect(lock().tryWithJobLock(job, async () => 1)).rejects.toThrow(TypeError);
    });
  });

  describe('connections', () => {
    it('creates and closes a client of its own when given a URL', async () => {
      const a = new RedlockRefreshLock({ redis: `redis://127.0.0.1:${REDIS_PORT}`, keyPrefix: prefix });
      cleanups.unshift(() => a.close());
      await expect(a.tryWithLock(alice, async () => 'ok')).resolves.toEqual({ acquired: true, value: 'ok' });
      await a.close();
      expect((a as unknown as { client: Redis }).client.status).toBe('end');
    });

    it('after close(), refuses new work, but leaves the given client open', async () => {
      const redis = client();
      const a = new RedlockRefreshLock({ redis, keyPrefix: prefix });
      await a.close();
      await expect(a.tryWithLock(alice, async () => 1)).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.close()).resolves.toBeUndefined();
      expect(await redis.ping()).toBe('PONG');
    });

    it('rejects malformed options with a TypeError', () => {
      const redis = client({ lazyConnect: true });
      expect(() => new RedlockRefreshLock(undefined as unknown as RedlockRefreshLockOptions)).toThrow(
        TypeError,
      );
      expect(() => new RedlockRefreshLock({} as RedlockRefreshLockOptions)).toThrow(TypeError);
      expect(() => new RedlockRefreshLock({ redis, lockTtlMs: 1.5 })).toThrow(TypeError);
      expect(() => new RedlockRefreshLock({ redis, lockTtlMs: 1_000, extensionThresholdMs: 1_000 })).toThrow(
        TypeError,
      );
      expect(() => new RedlockRefreshLock({ redis: client({ db: 16, lazyConnect: true }) })).toThrow(
        TypeError,
      );
    });
  });

  describe('when Redis fails', () => {
    it('throws LockUnavailableError, never a raw redlock error, when Redis is unreachable', async () => {
      const redis = client({
        port: await freePort(),
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      const a = new RedlockRefreshLock({ redis, keyPrefix: prefix });
      cleanups.unshift(() => a.close());
      const fn = jest.fn(async () => 1);

      const error = await a.tryWithLock(alice, fn).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockUnavailableError);
      expect(error).toEqual(
        expect.objectContaining({ code: 'jira_lock_unavailable', retryAfterSeconds: 5, status: 503 }),
      );
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(fn).not.toHaveBeenCalled();
    });

    describe('with a Redis that dies while the lock is held', () => {
      let server: { stop(): Promise<void> };
      let port: number;
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

      beforeEach(async () => {
        port = await freePort();
        server = await startRedisServer(port);
        unhandled.length = 0;
        realProcess.on('unhandledRejection', onUnhandled);
      });

      afterEach(async () => {
        realProcess.off('unhandledRejection', onUnhandled);
        await server.stop();
      });

      /** A lock whose client is connected, so that the holder below is the one to see Redis die. */
      async function dyingLock(logger: Logger): Promise<RedlockRefreshLock> {
        const redis = client({ port, maxRetriesPerRequest: 0, retryStrategy: () => null });
        const instance = new RedlockRefreshLock({ redis, keyPrefix: prefix, lockTtlMs: 1_000, logger });
        cleanups.unshift(() => instance.close());
        if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
        return instance;
      }

      it("aborts the holder's signal once the lock can no longer be extended", async () => {
        const logger = recordingLogger();
        const a = await dyingLock(logger);
        const result = await a.tryWithLock(alice, async (signal) => {
          await server.stop();
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return signal.reason;
        });
        expect(result).toEqual({ acquired: true, value: expect.any(LockUnavailableError) });
        expect(logger.warn).toHaveBeenCalledWith(
          expect.anything(),
          expect.stringMatching(/^Lost the refresh lock: it expired before it could be extended$/),
        );
        // Expected after a loss, so only a debug line.
        expect(logger.debug).toHaveBeenCalledWith(
          expect.anything(),
          'Could not release the refresh lock; it expires by itself',
        );
        await a.close();
        expect(unhandled).toEqual([]);
      });

      it("returns fn's value when only the release fails, and logs it", async () => {
        const logger = recordingLogger();
        const a = await dyingLock(logger);
        const result = await a.tryWithLock(alice, async (signal) => {
          await server.stop();
          return signal.aborted;
        });
        expect(result).toEqual({ acquired: true, value: false });
        expect(logger.warn).toHaveBeenCalledWith(
          expect.anything(),
          'Could not release the refresh lock; it expires by itself',
        );
        await a.close();
        expect(unhandled).toEqual([]);
      });

      it("propagates fn's own error, not the failed release's", async () => {
        const a = await dyingLock(recordingLogger());
        const failure = new Error('refresh failed');
        await expect(
          a.tryWithLock(alice, async () => {
            await server.stop();
            throw failure;
          }),
        ).rejects.toBe(failure);
        await a.close();
        expect(unhandled).toEqual([]);
      });
    });
  });
});
