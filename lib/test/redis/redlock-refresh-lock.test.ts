// RedlockRefreshLock against real Redis: exclusion across instances, extension, notices over pub/sub, failures.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { runInThisContext } from 'node:vm';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { LockUnavailableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import { RedlockRefreshLock } from '../../src/redis/redlock-refresh-lock';
import type { RedlockRefreshLockOptions } from '../../src/redis/redlock-refresh-lock';
import type { Notice } from '../../src/lock/refresh-lock';
import type { UserRef } from '../../src/types';
import { encodeAccountId, tenantTag, userId } from '../../src/store/user-key';

const REDIS_PORT = 6379;
const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const bob: UserRef = { clientKey: 'tenant-1', accountId: 'bob' };
const carol: UserRef = { clientKey: 'tenant-2', accountId: 'carol' };

// Jest hands tests a sandboxed `process` whose listeners never hear the real process's events.
const realProcess = runInThisContext('process') as NodeJS.Process;

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function recordingLogger(): Logger & { [K in keyof Logger]: jest.Mock } {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throwaway redis-server child, for the tests where Redis dies or comes late. */
async function startRedisServer(port: number): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited early (${code}): ${output}`)));
  });
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `CLIENT LIST` entries carrying a name, as field maps. */
async function clientsNamed(admin: Redis, name: string): Promise<Record<string, string>[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      Object.fromEntries(line.split(' ').map((field) => field.split(/=(.*)/s, 2) as [string, string])),
    )
    .filter((fields) => fields.name === name);
}

describe('RedlockRefreshLock', () => {
  let admin: Redis;
  let prefix: string;
  let lockKey: (user: UserRef) => string;
  const cleanups: (() => Promise<unknown> | void)[] = [];

  /** A client standing for one app process; closed after the test. */
  function client(options: RedisOptions = {}): Redis {
    const redis = new Redis({ port: REDIS_PORT, ...options });
    // Connection errors are what some tests are about; without a listener ioredis prints them.
    redis.on('error', () => undefined);
    // Not on an ended client: ioredis would start a 2 s timer to destroy a socket already gone.
    cleanups.push(() => {
      if (redis.status !== 'end') redis.disconnect();
    });
    return redis;
  }

  /** A lock on its own client, as one app process would have; closed after the test. */
  function lock(options: Partial<RedlockRefreshLockOptions> = {}): RedlockRefreshLock {
    const instance = new RedlockRefreshLock({ redis: client(), keyPrefix: prefix, ...options });
    cleanups.unshift(() => instance.close());
    return instance;
  }

  beforeAll(() => {
    admin = new Redis({ port: REDIS_PORT });
  });

  afterAll(async () => {
    await admin.quit();
  });

  beforeEach(() => {
    prefix = `jtr-test-${randomUUID()}:`;
    lockKey = (user) => `${prefix}${tenantTag(user.clientKey)}:lock:${encodeAccountId(user.accountId)}`;
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
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

  describe('notices', () => {
    it("wakes a waiter in another process, and the publisher's own waiters through Redis", async () => {
      const a = lock();
      const b = lock();
      await Promise.all([a.ready(), b.ready()]);
      const remote = b.waitForNotice(alice, 10_000);
      const own = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(remote.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      await expect(own.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
    });

    it('wakes 50 waiters of one user with one publish, over the one subscriber connection', async () => {
      const name = `jtr-notices-${randomUUID()}`;
      const a = lock();
      const b = lock({ subscriberName: name });
      await Promise.all([a.ready(), b.ready()]);
      const waits = Array.from({ length: 50 }, () => b.waitForNotice(alice, 10_000));
      await a.publish({ user: alice, kind: 'invalidated' });
      const notices = await Promise.all(waits.map((w) => w.promise));
      expect(notices).toEqual(Array(50).fill({ user: alice, kind: 'invalidated' }));
      const subscribers = await clientsNamed(admin, name);
      expect(subscribers).toHaveLength(1);
      expect(subscribers[0].sub).toBe('1');
    });

    it('does not wake waiters of other users, even one whose naive key would collide', async () => {
      const a = lock();
      const b = lock();
      await Promise.all([a.ready(), b.ready()]);
      const collider = b.waitForNotice({ clientKey: 'a', accountId: 'b:c' }, 10_000);
      const stranger = b.waitForNotice(carol, 10_000);
      const settled = jest.fn();
      void collider.promise.then(settled);
      void stranger.promise.then(settled);
      const target = b.waitForNotice({ clientKey: 'a:b', accountId: 'c' }, 10_000);
      const last = b.waitForNotice(bob, 10_000);

      await a.publish({ user: { clientKey: 'a:b', accountId: 'c' }, kind: 'rotated' });
      await a.publish({ user: bob, kind: 'rotated' });
      await expect(target.promise).resolves.toEqual({
        user: { clientKey: 'a:b', accountId: 'c' },
        kind: 'rotated',
      });
      // One channel delivers in order: once bob's notice is in, the earlier one reached everyone it would.
      await last.promise;
      expect(settled).not.toHaveBeenCalled();
      collider.cancel();
      stranger.cancel();
      await expect(collider.promise).resolves.toBeNull();
    });

    it("wakes every waiter of a purged tenant in another process, and no other tenant's", async () => {
      const a = lock();
      const b = lock();
      await Promise.all([a.ready(), b.ready()]);
      const purged = { clientKey: 'tenant-1', accountId: '' };
      const sameTenant = [b.waitForNotice(alice, 10_000), b.waitForNotice(bob, 10_000)];
      const otherTenant = b.waitForNotice({ clientKey: 'tenant-10', accountId: 'alice' }, 10_000);
      const settled = jest.fn();
      void otherTenant.promise.then(settled);
      const last = b.waitForNotice(carol, 10_000);

      await a.publish({ user: purged, kind: 'tenant_purged' });
      await a.publish({ user: carol, kind: 'rotated' });
      await expect(Promise.all(sameTenant.map((w) => w.promise))).resolves.toEqual([
        { user: purged, kind: 'tenant_purged' },
        { user: purged, kind: 'tenant_purged' },
      ]);
      await last.promise;
      expect(settled).not.toHaveBeenCalled();
      otherTenant.cancel();
    });

    it('calls onNotice listeners for every notice until they unsubscribe', async () => {
      const a = lock();
      const b = lock();
      await Promise.all([a.ready(), b.ready()]);
      const seen: Notice[] = [];
      const unsubscribe = b.onNotice((notice) => seen.push(notice));
      await a.publish({ user: alice, kind: 'rotated' });
      const wait = b.waitForNotice(carol, 10_000);
      await a.publish({ user: carol, kind: 'invalidated' });
      await wait.promise;
      unsubscribe();
      const after = b.waitForNotice(bob, 10_000);
      await a.publish({ user: bob, kind: 'rotated' });
      await after.promise;
      expect(seen).toEqual([
        { user: alice, kind: 'rotated' },
        { user: carol, kind: 'invalidated' },
      ]);
    });

    it('ignores malformed messages on its channel, logging each at debug', async () => {
      const logger = recordingLogger();
      const b = lock({ logger });
      await b.ready();
      const wait = b.waitForNotice(alice, 10_000);
      const channel = `${prefix}notices`;
      const bad = [
        'not json',
        'null',
        '[]',
        JSON.stringify({ u: userId(alice) }),
        JSON.stringify({ u: userId(alice), k: 'stolen' }),
        JSON.stringify({ u: 'no-dot', k: 'rotated' }),
        JSON.stringify({ u: `${userId(alice)}==`, k: 'rotated' }),
        JSON.stringify({ u: '.', k: 'rotated' }),
        JSON.stringify({ u: userId({ clientKey: 'tenant-1', accountId: '' }), k: 'rotated' }),
        JSON.stringify({ u: userId(alice), k: 'tenant_purged' }),
      ];
      for (const message of bad) await admin.publish(channel, message);
      await admin.publish(channel, JSON.stringify({ u: userId(alice), k: 'rotated' }));
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      expect(logger.debug.mock.calls.filter(([, msg]) => msg === 'Ignored a malformed notice')).toHaveLength(
        bad.length,
      );
    });

    it('never carries a token: the message is the user id and the kind', async () => {
      const a = lock();
      const listener = client();
      await listener.subscribe(`${prefix}notices`);
      const message = new Promise<string>((resolve) =>
        listener.once('message', (_channel, text: string) => resolve(text)),
      );
      await a.publish({ user: alice, kind: 'rotated' });
      expect(JSON.parse(await message)).toEqual({ u: userId(alice), k: 'rotated' });
    });
  });

  describe('connections', () => {
    it('opens exactly one subscriber connection per instance and closes it on close()', async () => {
      const names = [`jtr-notices-${randomUUID()}`, `jtr-notices-${randomUUID()}`];
      const instances = names.map((subscriberName) => lock({ subscriberName }));
      await Promise.all(instances.map((i) => i.ready()));
      for (const name of names) expect(await clientsNamed(admin, name)).toHaveLength(1);

      const waits = Array.from({ length: 200 }, () => instances[0].waitForNotice(alice, 10_000));
      expect(await clientsNamed(admin, names[0])).toHaveLength(1);
      for (const wait of waits) wait.cancel();

      await instances[0].close();
      expect(await clientsNamed(admin, names[0])).toHaveLength(0);
      expect(await clientsNamed(admin, names[1])).toHaveLength(1);
    });

    it('creates and closes a client of its own when given a URL', async () => {
      const name = `jtr-notices-${randomUUID()}`;
      const a = new RedlockRefreshLock({
        redis: `redis://127.0.0.1:${REDIS_PORT}`,
        keyPrefix: prefix,
        subscriberName: name,
      });
      cleanups.unshift(() => a.close());
      await a.ready();
      const wait = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      await expect(a.tryWithLock(alice, async () => 'ok')).resolves.toEqual({ acquired: true, value: 'ok' });
      await a.close();
      expect(await clientsNamed(admin, name)).toHaveLength(0);
    });

    it('after close(), resolves waits with null and refuses new work, but leaves the given client open', async () => {
      const redis = client();
      const a = new RedlockRefreshLock({ redis, keyPrefix: prefix });
      await a.ready();
      const wait = a.waitForNotice(alice, 60_000);
      await a.close();
      await expect(wait.promise).resolves.toBeNull();
      await expect(a.tryWithLock(alice, async () => 1)).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.publish({ user: alice, kind: 'rotated' })).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.waitForNotice(alice, 60_000).promise).resolves.toBeNull();
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
      expect(() => new RedlockRefreshLock({ redis, subscriberName: 'has space' })).toThrow(TypeError);
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
      await expect(a.publish({ user: alice, kind: 'rotated' })).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);
    });

    it('subscribes once Redis comes up, when it was down at start', async () => {
      const port = await freePort();
      const redis = client({ port, maxRetriesPerRequest: 0, retryStrategy: () => 20 });
      const a = new RedlockRefreshLock({ redis, keyPrefix: prefix });
      cleanups.unshift(() => a.close());
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);

      const server = await startRedisServer(port);
      cleanups.push(() => server.stop());
      // The lock's own listener re-subscribes on this event; the test's runs after it.
      const subscriber = (a as unknown as { subscriber: Redis }).subscriber;
      if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
      await a.ready();
      const wait = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
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

      function dyingLock(logger: Logger): RedlockRefreshLock {
        const redis = client({ port, maxRetriesPerRequest: 0, retryStrategy: () => null });
        const instance = new RedlockRefreshLock({ redis, keyPrefix: prefix, lockTtlMs: 1_000, logger });
        cleanups.unshift(() => instance.close());
        return instance;
      }

      it("aborts the holder's signal once the lock can no longer be extended", async () => {
        const logger = recordingLogger();
        const a = dyingLock(logger);
        await a.ready();
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
        const a = dyingLock(logger);
        await a.ready();
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
        const a = dyingLock(recordingLogger());
        await a.ready();
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
