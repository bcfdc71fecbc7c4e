// Data loss is loud: a Redis that restarted without its data or was flushed is noticed through the
// marker key, logged once per loss with the count, and counted in jira_token_store_losses_total.

import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { createTokenManager } from '../../src';
import { StoreLossWatch } from '../../src/redis/store-loss-watch';
import { captureLogger } from '../../../test/support/capture-logger';
import { sample } from '../../../test/support/prom-text';
import { type RedisServer, startRedisServer } from '../../../support/redis-server';

let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];

beforeEach(async () => {
  server = await startRedisServer({ aof: false });
  admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  admin.disconnect();
  await server.close();
});

function watch(losses: { count: number }) {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 0, commandTimeout: 500 });
  clients.push(redis);
  const logger = captureLogger();
  const w = new StoreLossWatch({
    redis,
    keyPrefix: 'jtr:',
    logger,
    intervalMs: 0,
    onLoss: () => (losses.count += 1),
  });
  return { w, logger };
}

describe('StoreLossWatch', () => {
  test('a flush is one loss, logged once with its count; a second flush is the second', async () => {
    const losses = { count: 0 };
    const { w, logger } = watch(losses);
    await w.check();
    await w.check();
    expect(logger.entries).toEqual([]);
    expect(await admin.get('jtr:store-marker')).toEqual(expect.any(String));

    await admin.flushall();
    await w.check();
    await w.check();
    expect(losses.count).toBe(1);
    expect(logger.events('token_store_lost').map((e) => [e.level, e.obj.losses])).toEqual([['error', 1]]);

    await admin.flushall();
    await w.check();
    expect(losses.count).toBe(2);
    expect(logger.events('token_store_lost').map((e) => e.obj.losses)).toEqual([1, 2]);
  });

  test('a restart without persistence is a loss; Redis down meanwhile is not', async () => {
    const losses = { count: 0 };
    const { w, logger } = watch(losses);
    await w.check();
    await server.stop('SIGKILL');
    await w.check();
    expect(losses.count).toBe(0);
    await server.start();
    await w.check();
    expect(losses.count).toBe(1);
    expect(logger.events('token_store_lost')).toHaveLength(1);
  });

  test('every process that held the old marker reports the loss once, whoever sets the new one', async () => {
    const a = { count: 0 };
    const b = { count: 0 };
    const first = watch(a);
    const second = watch(b);
    await first.w.check();
    await second.w.check();
    await admin.flushall();
    await first.w.check();
    await second.w.check();
    await first.w.check();
    await second.w.check();
    expect([a.count, b.count]).toEqual([1, 1]);
  });

  test('a process that starts after the marker was set adopts it: no loss', async () => {
    const a = { count: 0 };
    const b = { count: 0 };
    await watch(a).w.check();
    const late = watch(b);
    await late.w.check();
    await late.w.check();
    expect(b.count).toBe(0);
    expect(late.logger.entries).toEqual([]);
  });
});

test('the manager watches its Redis: a flush is logged once and counted', async () => {
  const logger = captureLogger();
  const registry = new Registry();
  const manager = createTokenManager({
    clientId: 'loss',
    clientSecret: 'loss-secret',
    redis: server.url,
    keyPrefix: 'jtr:',
    encryptionKey: randomBytes(32).toString('base64'),
    recoveryIntervalMs: 20,
    logger,
    registry,
  });
  try {
    const user = { clientKey: 'tenant', accountId: 'user' };
    await manager.save(
      user,
      { access_token: 'at', refresh_token: 'rt', expires_in: 3600 },
      { cloudId: 'c', url: 'https://x.atlassian.net' },
    );
    expect(await admin.get('jtr:store-marker')).toEqual(expect.any(String));
    await admin.flushall();
    await logger.waitForEvent('token_store_lost');
    expect(sample(await registry.metrics(), 'jira_token_store_losses_total')).toBe(1);
    expect(manager.stats().storeLosses).toBe(1);
    expect(logger.events('token_store_lost')).toHaveLength(1);
  } finally {
    await manager.close();
  }
});
