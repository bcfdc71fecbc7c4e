// The shared clock against a real Redis TIME, end to end: a manager whose own clock is ±2 min or
// ±20 s off stamps what it stores (here a consent's expiry) on Redis's time line, not its own, and
// warns once. The fault suite's clock-skew test hands its processes the simulator's clock as the
// store's time; this is the path production takes, through RedisTokenStore.time().

import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTokenManager } from '../../src/manager/create-token-manager';
import { captureLogger } from '../../../support/capture-logger';
import { REDIS_PORT } from '../redis/redis-fixtures';

const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
const HOUR = 3_600_000;

let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
afterAll(() => redis.quit());

async function redisNow(): Promise<number> {
  const [seconds, microseconds] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
}

it.each([
  ['+2 min', 120_000],
  ['−2 min', -120_000],
  ['+20 s', 20_000],
  ['−20 s', -20_000],
])('a process %s off stamps its records on Redis TIME, and warns once', async (_label, skewMs) => {
  const keyPrefix = `jtr-test:${randomUUID()}:`;
  const logger = captureLogger();
  const manager = createTokenManager({
    clientId: 'client-id',
    clientSecret: 'client-secret',
    redis: REDIS_URL,
    keyPrefix,
    encryptionKey: randomBytes(32).toString('base64'),
    now: () => Date.now() + skewMs,
    recoveryIntervalMs: 0,
    logger,
  });
  const user = { clientKey: 'clock-tenant', accountId: 'clock-user' };
  try {
    await manager.ready();
    const before = await redisNow();
    await manager.save(user, { access_token: 'at', refresh_token: 'rt', expires_in: 3600 });
    const after = await redisNow();
    const { expiresAt } = (await manager.status(user))!;
    // On Redis's time line, give or take the measured round trip; the local clock is ≥ 20 s off.
    expect(expiresAt).toBeGreaterThanOrEqual(before + HOUR - 250);
    expect(expiresAt).toBeLessThanOrEqual(after + HOUR + 250);
    expect(logger.events('clock_skew')).toHaveLength(1);
  } finally {
    await manager.close();
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
});
