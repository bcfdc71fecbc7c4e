// A token manager wired to a running simulator, in the embedded (memory) or the Redis
// configuration, with a capturing logger and a fetch probe; and the no-leak check.

import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MemoryTokenStore, createTokenManager } from 'jira-token-rotation';
import type { TokenManager, TokenManagerOptions, UserRef } from 'jira-token-rotation';
import { DEFAULT_SITES, type SimulatorOptions } from '../../sim';
import { type CaptureLogger, captureLogger } from '../../support/capture-logger';
import { type FetchProbe, fetchProbe } from '../../support/fetch-probe';
import { type SimServer, startSim } from '../../support/sim-server';

export { leakedSecrets } from '../../support/leaked-secrets';

export type Configuration = 'memory' | 'redis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SITE = { cloudId: DEFAULT_SITES[0].id, url: DEFAULT_SITES[0].url };
export const HOUR = 3_600_000;

/**
 * Budgets short enough that a request waiting behind a lease or a write that never comes gives up
 * within a second, nested as the options require (request timeout × attempts + lease + re-read <
 * wait).
 */
export const SHORT_BUDGETS = Object.freeze({
  requestTimeoutMs: 300,
  tokenRequestAttempts: 1,
  leaseMs: 500,
  lockTtlMs: 500,
  waitTimeoutMs: 1_000,
  noticeTimeoutMs: 100,
});

export interface Harness {
  server: SimServer;
  probe: FetchProbe;
  logger: CaptureLogger;
  manager: TokenManager;
  user: UserRef;
  keyPrefix: string;
  encryptionKey: string;
  redis?: Redis;
  /** Another manager on the same store (and, with Redis, the same lock and notices). */
  sibling(overrides?: Partial<TokenManagerOptions>): TokenManager;
  /** A new consent in the simulator, saved for `user`; returns the tokens. */
  consent(user?: UserRef): Promise<{ access_token: string; refresh_token?: string }>;
  expire(): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /**
   * A Redis of the test's own (one it stops and restarts). Each manager then connects by URL with
   * a client of its own and the factory's fail-fast options, as separate processes would.
   */
  redisUrl?: string;
  /** Options of the simulator (more accounts, for tests of many users). */
  sim?: SimulatorOptions;
}

export async function createHarness(
  configuration: Configuration,
  overrides: Partial<TokenManagerOptions> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const server = await startSim(options.sim);
  const probe = fetchProbe();
  const logger = captureLogger();
  const keyPrefix = `jtr-test:${randomUUID()}:`;
  const encryptionKey = randomBytes(32).toString('base64');
  const redis =
    configuration === 'redis'
      ? new Redis(options.redisUrl ?? REDIS_URL, { maxRetriesPerRequest: 1 })
      : undefined;
  // A Redis that the test stops makes this admin client complain; it is only used to clean up.
  if (options.redisUrl) redis?.on('error', () => undefined);
  // Memory: siblings share the store but not the lock, like processes whose lock lapsed.
  const memoryStore = configuration === 'memory' ? new MemoryTokenStore() : undefined;
  const managers: TokenManager[] = [];
  const make = (extra: Partial<TokenManagerOptions> = {}): TokenManager => {
    const manager = createTokenManager({
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
      tokenUrl: server.tokenUrl,
      apiBaseUrl: server.baseUrl,
      fetch: probe.fetch,
      now: () => server.sim.clock.now(),
      logger,
      redis: options.redisUrl ?? redis,
      store: memoryStore,
      keyPrefix,
      encryptionKey,
      recoveryIntervalMs: 0,
      noticeTimeoutMs: 200,
      // The simulator's manual clock is the world's clock here, which Redis TIME knows nothing of:
      // no offset to it. Clock-skew tests turn the measuring on per process.
      clockSyncIntervalMs: 0,
      ...overrides,
      ...extra,
    });
    managers.push(manager);
    return manager;
  };
  const manager = make();
  const user = { clientKey: `tenant-${randomUUID()}`, accountId: 'sim-user-1' };
  const harness: Harness = {
    server,
    probe,
    logger,
    manager,
    user,
    keyPrefix,
    encryptionKey,
    redis,
    sibling: (extra) => make(extra),
    consent: async (who = user) => {
      const tokens = server.sim.consent(who.accountId);
      probe.secrets.add(tokens.access_token);
      if (tokens.refresh_token) probe.secrets.add(tokens.refresh_token);
      await manager.save(who, tokens, SITE);
      return tokens;
    },
    expire: () => server.sim.clock.advance(HOUR + 1),
    close: async () => {
      await Promise.all(managers.map((m) => m.close()));
      if (redis) {
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
      await server.close();
    },
  };
  return harness;
}

/** What a child app process needs to join a harness: its simulator, Redis, keys, user and clock. */
export function childEnv(h: Harness): Record<string, string> {
  return {
    TOKEN_URL: h.server.tokenUrl,
    REDIS_URL,
    KEY_PREFIX: h.keyPrefix,
    ENCRYPTION_KEY: h.encryptionKey,
    CLIENT_KEY: h.user.clientKey,
    ACCOUNT_ID: h.user.accountId,
    SIM_NOW: String(h.server.sim.clock.now()),
  };
}
