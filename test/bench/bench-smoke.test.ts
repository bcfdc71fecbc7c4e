// The benchmark's premise in a few seconds, in one process: at P = 1, C = 10 the naive strategy
// forks the chain (nine leeway reuses) and this project rotates once. Not a timed assertion.

import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createTokenManager } from 'jira-token-rotation';
import { JsonTokenStore } from '../../bench/strategies/json-token-store';
import { NaiveTokenSource } from '../../bench/strategies/naive';
import { SingleFlightTokenSource } from '../../bench/strategies/single-flight';
import { type SimServer, startSim } from '../../support/sim-server';
import { HOUR, REDIS_URL } from '../support/manager-harness';

const CLIENT = { clientId: 'sim-client-id', clientSecret: 'sim-client-secret' };
const USER = { clientKey: 'bench-tenant', accountId: 'sim-user-1' };
const C = 10;

describe('bench strategies, P = 1, C = 10, token expired', () => {
  let server: SimServer;
  let redis: Redis;
  let keyPrefix: string;
  let offset: number;
  const now = (): number => Date.now() + offset;
  const expire = (): void => {
    offset += HOUR + 1_000;
    server.sim.clock.advance(HOUR + 1_000);
  };

  beforeEach(async () => {
    server = await startSim();
    server.sim.setChaos({ latencyMs: 20 });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    keyPrefix = `jtr-bench-test:${randomUUID()}:`;
    offset = 0;
  });

  afterEach(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await server.close();
  });

  function vendorDeps() {
    return { ...CLIENT, store: new JsonTokenStore(redis, keyPrefix), tokenUrl: server.tokenUrl, now };
  }

  async function seedVendor(deps: ReturnType<typeof vendorDeps>): Promise<void> {
    const tokens = server.sim.consent(USER.accountId);
    await deps.store.set(USER, {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      expiresAt: now() + tokens.expires_in * 1000,
    });
  }

  test('naive: every request refreshes, so the chain forks', async () => {
    const deps = vendorDeps();
    await seedVendor(deps);
    expire();
    const naive = new NaiveTokenSource(deps);
    await Promise.all(Array.from({ length: C }, () => naive.getAccessToken(USER)));
    expect(server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: C - 1, revocations: 0 });
  });

  test('single-flight: one refresh per process', async () => {
    const deps = vendorDeps();
    await seedVendor(deps);
    expire();
    const singleFlight = new SingleFlightTokenSource(deps);
    await Promise.all(Array.from({ length: C }, () => singleFlight.getAccessToken(USER)));
    expect(server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 0, revocations: 0 });
  });

  test('this project: one rotation, no reuse', async () => {
    const manager = createTokenManager({
      ...CLIENT,
      tokenUrl: server.tokenUrl,
      redis: REDIS_URL,
      keyPrefix,
      encryptionKey: randomBytes(32).toString('base64'),
      recoveryIntervalMs: 0,
      now,
    });
    try {
      await manager.save(USER, server.sim.consent(USER.accountId));
      expire();
      await Promise.all(Array.from({ length: C }, () => manager.getAccessToken(USER)));
      expect(server.sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 0, revocations: 0 });
    } finally {
      await manager.close();
    }
  });
});
