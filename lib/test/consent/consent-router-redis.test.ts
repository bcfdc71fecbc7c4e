// Two consent routers (two processes) on one Redis: a consent started on one finishes on the other,
// a launch claimed on one is spent on the other, and the rate limit counts across both. Stores
// given in `stores` replace the defaults.

import { randomBytes, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import request from 'supertest';
import { consentRouter, type ConsentRouter } from '../../src/consent/consent-router';
import type { ConsentRouterOptions } from '../../src/consent/consent-router-options';
import { MemoryOneTimeStore } from '../../src/consent/memory-one-time-store';
import { createTokenManager } from '../../src/manager/create-token-manager';
import type { TokenManager } from '../../src/manager/token-manager';
import { REDIS_URL, deleteKeys } from '../../../test/support/redis-keys';
import { type SimServer, startSim } from '../../../test/support/sim-server';
import { TENANT, USER, nonceCookie, resultOf } from './router-harness';

const NOW = Date.now() - (Date.now() % 60_000);

interface Process {
  base: string;
  consent: ConsentRouter;
  server: Server;
}

describe('consentRouter on Redis', () => {
  const keyPrefix = `jtr-consent-test:${randomUUID()}:`;
  const secret = randomBytes(32);
  let redis: Redis;
  let sim: SimServer;
  let tokens: TokenManager;
  let processes: Process[];
  let callbackUrl: string;

  const startProcess = async (options: Partial<ConsentRouterOptions> = {}): Promise<Process> => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const consent = consentRouter({
      tokens,
      resolveUser: (req) => ({ clientKey: TENANT, accountId: String(req.headers['x-user'] ?? USER) }),
      // Both behind one public URL, as a load balancer would have them.
      callbackUrl,
      secret,
      redis,
      keyPrefix,
      authorizeUrl: `${sim.baseUrl}/authorize`,
      rateLimit: { limit: 3, windowMs: 60_000 },
      // One clock for both, at a window's start: their counts fall in one window.
      now: () => NOW,
      ...options,
    });
    const app = express();
    app.use('/jira', consent);
    server.on('request', app);
    return { base, consent, server };
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    sim = await startSim();
    tokens = createTokenManager({
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
      tokenUrl: sim.tokenUrl,
      apiBaseUrl: sim.baseUrl,
    });
    callbackUrl = 'http://127.0.0.1:1/jira/callback';
    processes = [await startProcess(), await startProcess()];
  });
  afterAll(async () => {
    for (const { server } of processes) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await tokens.close();
    await sim.close();
    await redis.quit();
    await deleteKeys(keyPrefix);
  });

  test('a consent started on one process finishes on the other; its state is then spent on both', async () => {
    const [a, b] = processes;
    const launch = (await request(a.base).post('/jira/launch').expect(200)).body.launch as string;
    const started = await request(b.base).post('/jira/connect').type('form').send({ launch }).expect(303);
    // The launch is claimed in Redis: process A refuses it too.
    const replay = await request(a.base).post('/jira/connect').type('form').send({ launch });
    expect({ status: replay.status, result: resultOf(replay.text) }).toEqual({
      status: 400,
      result: 'expired',
    });
    const authorizeUrl = new URL(started.headers.location as string);
    expect(await redis.keys(`${keyPrefix}oauth-state:*`)).toHaveLength(1);
    const decided = await request(sim.baseUrl)
      .post('/authorize')
      .type('form')
      .send({ ...Object.fromEntries(authorizeUrl.searchParams), account_id: USER, decision: 'accept' })
      .expect(302);
    const callback = new URL(decided.headers.location as string);
    const path = `${callback.pathname}${callback.search}`;
    const done = await request(a.base).get(path).set('cookie', nonceCookie(started));
    expect({ status: done.status, result: resultOf(done.text) }).toEqual({
      status: 200,
      result: 'connected',
    });
    const again = await request(b.base).get(path).set('cookie', nonceCookie(started));
    expect(resultOf(again.text)).toBe('expired');
    expect(sim.sim.stats().codeExchanges).toBe(1);
    expect(await redis.keys(`${keyPrefix}oauth-state:*`)).toEqual([]);
    expect(await tokens.status({ clientKey: TENANT, accountId: USER })).toMatchObject({ state: 'active' });
  });

  test('the rate limit counts across processes', async () => {
    const [a, b] = processes;
    const statuses = [];
    for (const p of [a, b, a, b])
      statuses.push((await request(p.base).post('/jira/launch').set('x-user', 'rate-user')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await redis.keys(`${keyPrefix}rate:consent:launch:user:*rate-user*`)).toEqual([
      `${keyPrefix}rate:consent:launch:user:["tenant-1","rate-user"]:${NOW}`,
    ]);
  });

  test('a store given in `stores` replaces the Redis default', async () => {
    const states = new MemoryOneTimeStore();
    const own = await startProcess({ stores: { states } });
    processes.push(own);
    const launch = (await request(own.base).post('/jira/launch').set('x-user', 'store-user').expect(200)).body
      .launch as string;
    const before = await redis.keys(`${keyPrefix}oauth-state:*`);
    const started = await request(own.base).post('/jira/connect').type('form').send({ launch }).expect(303);
    const state = new URL(started.headers.location as string).searchParams.get('state')!;
    expect(await redis.keys(`${keyPrefix}oauth-state:*`)).toEqual(before);
    expect(JSON.parse((await states.take(state))!)).toMatchObject({
      clientKey: TENANT,
      accountId: 'store-user',
    });
  });
});
