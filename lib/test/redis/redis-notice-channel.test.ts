// RedisNoticeChannel against real Redis: notices over pub/sub between processes, one subscriber
// connection each, and what happens when Redis is down.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LockUnavailableError } from '../../src/errors';
import type { Notice } from '../../src/notice/notice';
import { RedisNoticeChannel, type RedisNoticeChannelOptions } from '../../src/redis/redis-notice-channel';
import type { UserRef } from '../../src/types';
import { userId } from '../../src/store/user-key';
import {
  REDIS_PORT,
  clientsNamed,
  freePort,
  recordingLogger,
  startRedisServer,
  useRedisSuite,
} from './redis-fixtures';

const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const bob: UserRef = { clientKey: 'tenant-1', accountId: 'bob' };
const carol: UserRef = { clientKey: 'tenant-2', accountId: 'carol' };

describe('RedisNoticeChannel', () => {
  const suite = useRedisSuite();
  const { client, cleanups } = suite;
  let admin: Redis;
  let prefix: string;

  /** A channel on its own client, as one app process would have; closed after the test. */
  function openChannel(options: Partial<RedisNoticeChannelOptions> = {}): RedisNoticeChannel {
    const instance = new RedisNoticeChannel({ redis: client(), keyPrefix: prefix, ...options });
    cleanups.unshift(() => instance.close());
    return instance;
  }

  beforeEach(() => {
    ({ admin, prefix } = suite);
  });

  it('is distributed', () => {
    expect(openChannel().distributed).toBe(true);
  });

  describe('notices', () => {
    it("wakes a waiter in another process, and the publisher's own waiters through Redis", async () => {
      const a = openChannel();
      const b = openChannel();
      await Promise.all([a.ready(), b.ready()]);
      const remote = b.waitForNotice(alice, 10_000);
      const own = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(remote.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      await expect(own.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
    });

    it('wakes 50 waiters of one user with one publish, over the one subscriber connection', async () => {
      const name = `jtr-notices-${randomUUID()}`;
      const a = openChannel();
      const b = openChannel({ subscriberName: name });
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
      const a = openChannel();
      const b = openChannel();
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
      const a = openChannel();
      const b = openChannel();
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
      const a = openChannel();
      const b = openChannel();
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
      const b = openChannel({ logger });
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
      const a = openChannel();
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
      const instances = names.map((subscriberName) => openChannel({ subscriberName }));
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
      const a = new RedisNoticeChannel({
        redis: `redis://127.0.0.1:${REDIS_PORT}`,
        keyPrefix: prefix,
        subscriberName: name,
      });
      cleanups.unshift(() => a.close());
      await a.ready();
      const wait = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
      await a.close();
      expect(await clientsNamed(admin, name)).toHaveLength(0);
      expect((a as unknown as { client: Redis }).client.status).toBe('end');
    });

    it('after close(), resolves waits with null and refuses new work, but leaves the given client open', async () => {
      const redis = client();
      const a = new RedisNoticeChannel({ redis, keyPrefix: prefix });
      await a.ready();
      const wait = a.waitForNotice(alice, 60_000);
      await a.close();
      await expect(wait.promise).resolves.toBeNull();
      await expect(a.publish({ user: alice, kind: 'rotated' })).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.waitForNotice(alice, 60_000).promise).resolves.toBeNull();
      await expect(a.close()).resolves.toBeUndefined();
      expect(await redis.ping()).toBe('PONG');
    });

    it('rejects malformed options with a TypeError', () => {
      const redis = client({ lazyConnect: true });
      expect(() => new RedisNoticeChannel(undefined as unknown as RedisNoticeChannelOptions)).toThrow(
        TypeError,
      );
      expect(() => new RedisNoticeChannel({} as RedisNoticeChannelOptions)).toThrow(TypeError);
      expect(() => new RedisNoticeChannel({ redis, subscriberName: 'has space' })).toThrow(TypeError);
      expect(() => new RedisNoticeChannel({ redis, keyPrefix: 42 as unknown as string })).toThrow(TypeError);
    });
  });

  describe('when Redis fails', () => {
    it('rejects publish and ready with LockUnavailableError when Redis is unreachable', async () => {
      const redis = client({
        port: await freePort(),
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      const a = new RedisNoticeChannel({ redis, keyPrefix: prefix });
      cleanups.unshift(() => a.close());
      await expect(a.publish({ user: alice, kind: 'rotated' })).rejects.toBeInstanceOf(LockUnavailableError);
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);
    });

    it('subscribes once Redis comes up, when it was down at start', async () => {
      const port = await freePort();
      const redis = client({ port, maxRetriesPerRequest: 0, retryStrategy: () => 20 });
      const a = new RedisNoticeChannel({ redis, keyPrefix: prefix });
      cleanups.unshift(() => a.close());
      await expect(a.ready()).rejects.toBeInstanceOf(LockUnavailableError);

      const server = await startRedisServer(port);
      cleanups.push(() => server.stop());
      // The channel's own listener re-subscribes on this event; the test's runs after it.
      const subscriber = (a as unknown as { subscription: { subscriber: Redis } }).subscription.subscriber;
      if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
      await a.ready();
      const wait = a.waitForNotice(alice, 10_000);
      await a.publish({ user: alice, kind: 'rotated' });
      await expect(wait.promise).resolves.toEqual({ user: alice, kind: 'rotated' });
    });
  });
});
