// Redis dies under the token manager: mid-burst (clear 503s, no crash, no unhandled rejection, and
// after a restart the chains are intact and the in-doubt ones recovered), and restarts with and
// without persistence. Each test runs a redis-server of its own; the shared one is never stopped.

import { randomUUID } from 'node:crypto';
import { runInThisContext } from 'node:vm';
import express from 'express';
import Redis from 'ioredis';
import request from 'supertest';
import {
  DEFAULTS,
  ErrorCodes,
  JiraTokenError,
  NotConnectedError,
  RedisNoticeChannel,
  checkRedisPersistence,
} from 'jira-token-rotation';
import { captureLogger } from '../../support/capture-logger';
import { type Harness, HOUR, createHarness, leakedSecrets } from '../support/manager-harness';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { gate } from '../../support/fetch-probe';

// Jest hands tests a sandboxed `process` whose listeners never hear the real process's events.
const realProcess = runInThisContext('process') as NodeJS.Process;

const LEASE_MS = 2_000;
const BUDGETS = {
  // One attempt, so a lost answer leaves the chain in doubt instead of being retried at once.
  requestTimeoutMs: 500,
  tokenRequestAttempts: 1,
  leaseMs: LEASE_MS,
  lockTtlMs: 3_000,
  noticeTimeoutMs: 200,
};

describe('Redis failures', () => {
  let server: RedisServer;
  let h: Harness;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

  beforeEach(() => {
    unhandled.length = 0;
    realProcess.on('unhandledRejection', onUnhandled);
    realProcess.on('uncaughtException', onUnhandled);
  });

  afterEach(async () => {
    realProcess.off('unhandledRejection', onUnhandled);
    realProcess.off('uncaughtException', onUnhandled);
    const leaked = leakedSecrets(h.logger, h.probe.secrets);
    if (!server.running) await server.start();
    await h.close();
    await server.close();
    expect(leaked).toEqual([]);
  });

  const open = async (aof: boolean): Promise<void> => {
    server = await startRedisServer({ aof });
    h = await createHarness('redis', BUDGETS, { redisUrl: server.url });
    await h.manager.ready();
  };

  test('stopped mid-burst: the holder serves its kept pair, others get clear 503s, no crash; after a restart the pair is stored and the in-doubt chain recovered', async () => {
    await open(true);
    const other = { clientKey: h.user.clientKey, accountId: 'sim-user-2' };
    await h.consent();
    await h.consent(other);
    h.expire();

    // `other`: its answer is lost after the server rotated, so its chain is in doubt before the outage.
    h.server.sim.scriptOutcomes(['hang_after_commit']);
    await expect(h.manager.getAccessToken(other)).rejects.toMatchObject({
      code: ErrorCodes.UPSTREAM_UNAVAILABLE,
    });
    expect(await h.manager.status(other)).toMatchObject({
      state: 'in_doubt',
      inDoubt: { reason: 'timeout' },
    });

    // `h.user`: a burst over two processes; the holder's answer comes back after Redis died.
    const sibling = h.sibling();
    await sibling.ready();
    const arrived = gate();
    const release = gate();
    h.probe.interceptNext(async (send) => {
      const response = await send(); // the simulator rotates now
      arrived.open();
      await release.promise;
      return response;
    });
    // `h.manager` holds the lease; the sibling's calls then wait behind it.
    const held = Array.from({ length: 20 }, () => h.manager.getAccessToken(h.user));
    await arrived.promise;
    const waiting = Array.from({ length: 20 }, () => sibling.getAccessToken(h.user));
    await h.logger.waitForEvent('lease_held_elsewhere');
    const burst = [...held, ...waiting];
    await server.stop('SIGKILL');
    release.open();

    // The holder could not store the answer: it keeps the new pair in memory (invariant 13), so
    // its process's 20 calls get the new token. The other process's waiters cannot re-read the
    // record: each fails with a typed 503 that says to retry.
    const outcomes = await Promise.allSettled(burst);
    const served = outcomes
      .slice(0, 20)
      .map((o) => (o.status === 'fulfilled' ? o.value.accessToken : o.reason));
    expect(new Set(served).size).toBe(1);
    expect(typeof served[0]).toBe('string');
    await h.logger.waitForEvent('settle_write_retrying');
    const failures = outcomes
      .slice(20)
      .map((o) => (o.status === 'rejected' ? (o.reason as unknown) : o.value));
    for (const failure of failures) expect(failure).toBeInstanceOf(JiraTokenError);
    expect(
      new Set(
        failures.map((e) => {
          const { code, status, retryAfterSeconds } = e as JiraTokenError;
          return JSON.stringify({ code, status, retryAfterSeconds });
        }),
      ),
    ).toEqual(
      new Set([JSON.stringify({ code: ErrorCodes.STORE_UNAVAILABLE, status: 503, retryAfterSeconds: 5 })]),
    );

    // While Redis is down: the middleware of a process that holds no token answers a clear 503,
    // and a sweep fails softly.
    const app = express();
    app.get('/jira', sibling.middleware({ resolveUser: () => h.user }), (_req, res) => {
      res.json({ ok: true });
    });
    const answer = await request(app).get('/jira');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.body).toEqual({ error: ErrorCodes.STORE_UNAVAILABLE });
    await expect(sibling.recoverInDoubt()).resolves.toBe(0);
    expect(h.logger.events('recovery_sweep_failed')).toHaveLength(1);

    // Redis comes back with its append-only file. The holder's kept pair is written by its own
    // retry, so `h.user`'s chain needs no recovery. A process that starts then sweeps, and
    // recovers `other`, whose answer was lost, by reusing its old refresh token inside the leeway.
    await server.start();
    await h.logger.waitForEvent('settle_write_landed');
    expect((await h.manager.status(h.user))?.state).toBe('active');
    // Past the timed-out request's commit horizon (and any lease).
    h.server.sim.clock.advance(LEASE_MS + DEFAULTS.commitHorizonMs);
    h.sibling({ recoveryIntervalMs: 100 });
    const recovered = await h.logger.waitForEvents('in_doubt_recovered', 1);
    expect(recovered.map((e) => e.obj.reason)).toEqual(['timeout']);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 2, leewayReuses: 1, revocations: 0 });
    const requests = h.server.sim.stats().tokenRequests;

    // The processes that lived through the outage reconnected and serve the recovered tokens.
    for (const [manager, user] of [
      [h.manager, h.user],
      [sibling, other],
    ] as const) {
      const token = await manager.getAccessToken(user);
      h.probe.secrets.add(token.accessToken);
      expect((await manager.status(user))?.state).toBe('active');
    }
    expect(h.server.sim.stats().tokenRequests).toBe(requests);
    // The chains are intact: an hour later (past any leeway) both rotate, nothing is revoked.
    h.expire();
    await h.manager.getAccessToken(h.user);
    await h.manager.getAccessToken(other);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 4, revocations: 0, invalidGrant: 0 });
    expect(unhandled).toEqual([]);
  });

  test.each(['SIGKILL', 'SIGTERM'] as const)(
    'with appendonly yes, tokens survive a restart (%s): no token request, then the stored chain rotates',
    async (signal) => {
      await open(true);
      await h.consent();
      h.expire();
      const rotated = await h.manager.getAccessToken(h.user);
      expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1 });
      await server.stop(signal);
      await server.start();
      // The process that lived through the restart reconnects and still finds the rotated record;
      // a fresh one (no cache) reads the rotated tokens back.
      expect((await h.manager.status(h.user))?.lastRotatedAt).toBe(h.server.sim.clock.now());
      const fresh = h.sibling();
      expect((await fresh.getAccessToken(h.user)).accessToken).toBe(rotated.accessToken);
      expect(h.server.sim.stats().tokenRequests).toBe(1);
      h.server.sim.clock.advance(HOUR);
      await fresh.getAccessToken(h.user);
      expect(h.server.sim.stats()).toMatchObject({ rotations: 2, leewayReuses: 0, revocations: 0 });
      expect(unhandled).toEqual([]);
    },
  );

  test('without persistence a restart forgets every chain: what the start-up warning is for', async () => {
    await open(false);
    expect(await checkRedisPersistence(h.redis!, h.logger)).toEqual({
      aof: false,
      rdb: false,
      evictionPolicy: 'noeviction',
      evictionSafe: true,
      checked: true,
    });
    expect(h.logger.events('redis_not_persistent')).toHaveLength(1);
    await h.consent();
    await server.stop('SIGKILL');
    await server.start();
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(NotConnectedError);
    expect(unhandled).toEqual([]);
  });
});

describe("the notice channel's subscription across reconnects", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    unhandled.length = 0;
    realProcess.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    realProcess.off('unhandledRejection', onUnhandled);
  });

  test('a re-subscription a hung Redis never answers is no unhandled rejection, and notices resume', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.close());
    // Like the factory's own clients, with a command timeout (short here); without the ready
    // check, a connection that comes back subscribes at once.
    const redis = new Redis(server.url, {
      commandTimeout: 200,
      maxRetriesPerRequest: 1,
      enableReadyCheck: false,
    });
    redis.on('error', () => undefined);
    cleanups.unshift(() => redis.quit());
    const logger = captureLogger();
    const channel = new RedisNoticeChannel({ redis, keyPrefix: `jtr-test:${randomUUID()}:`, logger });
    cleanups.unshift(async () => {
      server.resume();
      await channel.close();
    });
    await channel.ready();
    const subscriber = (channel as unknown as { subscription: { subscriber: Redis } }).subscription
      .subscriber;
    const user = { clientKey: 'tenant', accountId: 'alice' };

    // Redis hangs, and the subscriber's connection drops and comes back: its re-subscription
    // times out, unanswered.
    server.pause();
    subscriber.disconnect(true);
    await logger.waitForEvent('notice_subscribe_failed');
    server.resume();

    // The next connection subscribes again, by itself, and notices reach waiters.
    const reconnected = new Promise((resolve) => subscriber.once('ready', resolve));
    subscriber.disconnect(true);
    await reconnected; // the channel's own listener ran first and is subscribing
    await (channel as unknown as { subscribing?: Promise<void> }).subscribing;
    const wait = channel.waitForNotice(user, 10_000);
    await channel.publish({ user, kind: 'rotated' });
    await expect(wait.promise).resolves.toMatchObject({ user, kind: 'rotated' });
    expect(unhandled).toEqual([]);
  });
});
