// createTokenManager's option checks: every bad option is a TypeError at start-up that names it,
// and the embedded default works without a key (warning in production).

import { randomBytes } from 'node:crypto';
import { createTokenManager } from '../../src/manager/create-token-manager';
import { InProcessRefreshLock } from '../../src/lock/in-process-refresh-lock';
import type { Logger } from '../../src/logger';
import { MemoryTokenStore } from '../../src/store/memory-token-store';
import { DEFAULTS, type TokenManagerOptions } from '../../src/manager/options';
import type { RefreshLock } from '../../src/lock/refresh-lock';
import { InProcessNoticeChannel } from '../../src/notice/in-process-notice-channel';
import type { NoticeChannel } from '../../src/notice/notice-channel';
import type { TokenStore } from '../../src/store/token-store';

const required = { clientId: 'client-id-1', clientSecret: 'client-secret-1' };
const KEY = randomBytes(32).toString('base64');

/** A store that implements TokenStore without being a MemoryTokenStore: the factory must treat it as shared. */
function fakeSharedStore(): TokenStore {
  return {
    get: jest.fn(async () => null),
    compareAndSet: jest.fn(async () => true),
    delete: jest.fn(async () => false),
    deleteTenant: jest.fn(async () => 0),
    listByState: jest.fn(async () => []),
    listIdleSince: jest.fn(async () => []),
  };
}

/** A lock that claims to be distributed, without any Redis behind it. */
function fakeDistributedLock(): RefreshLock {
  return {
    distributed: true,
    tryWithLock: jest.fn(async () => ({ acquired: false as const })),
    close: jest.fn(async () => undefined),
  };
}

/** A notice channel that claims to be distributed, without any Redis behind it. */
function fakeDistributedNotices(): NoticeChannel {
  return {
    distributed: true,
    waitForNotice: jest.fn(() => ({ promise: Promise.resolve(null), cancel: () => undefined })),
    publish: jest.fn(async () => undefined),
    onNotice: jest.fn(() => () => undefined),
    close: jest.fn(async () => undefined),
  };
}

function recordingLogger(): Logger & { warn: jest.Mock } {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

/** Asserts that creation throws a TypeError whose message names `option` (and, when given, not `secret`). */
async function expectOptionError(options: unknown, option: string, secret?: string): Promise<void> {
  let caught: unknown;
  try {
    const manager = createTokenManager(options as TokenManagerOptions);
    await manager.close();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TypeError);
  const message = (caught as TypeError).message;
  expect(message).toContain(option);
  if (secret !== undefined) expect(message).not.toContain(secret);
}

describe('createTokenManager options', () => {
  describe('credentials', () => {
    it.each([
      ['missing clientId', { clientSecret: 'client-secret-1' }, 'clientId'],
      ['empty clientId', { ...required, clientId: '' }, 'clientId'],
      ['numeric clientId', { ...required, clientId: 42 }, 'clientId'],
      ['missing clientSecret', { clientId: 'client-id-1' }, 'clientSecret'],
      ['empty clientSecret', { ...required, clientSecret: '' }, 'clientSecret'],
      ['blank clientSecret', { ...required, clientSecret: '   ' }, 'clientSecret'],
    ])('%s', async (_, options, option) => {
      await expectOptionError(options, option);
    });

    it.each([undefined, null, 'client-id-1'])(
      'rejects options that are not an object (%p)',
      async (options) => {
        await expectOptionError(options, 'options');
      },
    );
  });

  describe('URLs and encoding', () => {
    it.each([
      ['tokenUrl', 'not a url'],
      ['tokenUrl', '/oauth/token'],
      ['tokenUrl', 'ftp://auth.atlassian.com/oauth/token'],
      ['tokenUrl', 42],
      ['apiBaseUrl', 'api.atlassian.com'],
      ['apiBaseUrl', 'javascript:alert(1)'],
    ])('%s %p', async (option, value) => {
      await expectOptionError({ ...required, [option]: value }, option);
    });

    it("tokenRequestEncoding 'xml'", async () => {
      await expectOptionError({ ...required, tokenRequestEncoding: 'xml' }, 'tokenRequestEncoding');
    });

    it.each(['json', 'form'] as const)(
      "tokenRequestEncoding '%s' is accepted",
      async (tokenRequestEncoding) => {
        await createTokenManager({ ...required, tokenRequestEncoding }).close();
      },
    );
  });

  describe('durations and counts', () => {
    const names = [
      'expiryMarginMs',
      'requestTimeoutMs',
      'leaseMs',
      'lockTtlMs',
      'waitTimeoutMs',
      'noticeTimeoutMs',
      'leewayMs',
      'inDoubtSafetyMs',
      'commitHorizonMs',
      'recoveryIntervalMs',
      'tokenRequestAttempts',
      'clockSyncIntervalMs',
      'clockSkewWarningMs',
    ];
    const bad: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1000', null];

    it.each(names.flatMap((name) => bad.map((value) => [name, value] as const)))(
      '%s = %p',
      async (name, value) => {
        await expectOptionError({ ...required, [name]: value }, name);
      },
    );

    it('tokenRequestAttempts 0', async () => {
      await expectOptionError({ ...required, tokenRequestAttempts: 0 }, 'tokenRequestAttempts');
    });

    it.each(['leaseMs', 'lockTtlMs'])('%s below 300 (renewed every third of it)', async (name) => {
      await expectOptionError({ ...required, [name]: 299 }, name);
      await createTokenManager({ ...required, [name]: 300 }).close();
    });

    it('waitTimeoutMs equal to requestTimeoutMs × tokenRequestAttempts + max(leaseMs, lockTtlMs) + noticeTimeoutMs', async () => {
      // 10 000 × 2 + max(6 000, 7 000) + 1 000 = 28 000
      await expectOptionError({ ...required, lockTtlMs: 7_000, waitTimeoutMs: 28_000 }, 'waitTimeoutMs');
    });

    it('accepts waitTimeoutMs just above a live holder, a dead holder and one re-read', async () => {
      await createTokenManager({ ...required, lockTtlMs: 7_000, waitTimeoutMs: 28_001 }).close();
    });

    it('a lease no longer has to outlast the requests: the heartbeat keeps it', async () => {
      await createTokenManager({
        ...required,
        requestTimeoutMs: 10_000,
        tokenRequestAttempts: 2,
        leaseMs: 1_000,
        lockTtlMs: 1_000,
      }).close();
    });

    it.each([600_000, 700_000])(
      'inDoubtSafetyMs %i with the default leewayMs (600 000)',
      async (inDoubtSafetyMs) => {
        await expectOptionError({ ...required, inDoubtSafetyMs }, 'inDoubtSafetyMs');
      },
    );

    // With the defaults, leewayMs − inDoubtSafetyMs − leaseMs is 600 000 − 60 000 − 6 000.
    it.each([534_000, 600_000])(
      'commitHorizonMs %i: the retry after it would not come before the in-doubt deadline',
      async (commitHorizonMs) => {
        await expectOptionError({ ...required, commitHorizonMs }, 'commitHorizonMs');
      },
    );

    it.each([0, 533_999])('accepts commitHorizonMs %i', async (commitHorizonMs) => {
      await createTokenManager({ ...required, commitHorizonMs }).close();
    });

    it('the defaults nest as invariant 10 requires', () => {
      // A dead holder's lease and lock key are gone within 6 s (issue #12: at most 10 s).
      expect(Math.max(DEFAULTS.leaseMs, DEFAULTS.lockTtlMs)).toBe(6_000);
      expect(
        DEFAULTS.requestTimeoutMs * DEFAULTS.tokenRequestAttempts +
          Math.max(DEFAULTS.leaseMs, DEFAULTS.lockTtlMs) +
          DEFAULTS.noticeTimeoutMs,
      ).toBeLessThan(DEFAULTS.waitTimeoutMs);
      expect(DEFAULTS.leewayMs - DEFAULTS.inDoubtSafetyMs).toBe(9 * 60_000);
      expect(DEFAULTS.commitHorizonMs).toBe(60_000);
      expect(DEFAULTS.leaseMs + DEFAULTS.commitHorizonMs).toBeLessThan(
        DEFAULTS.leewayMs - DEFAULTS.inDoubtSafetyMs,
      );
      expect(Object.isFrozen(DEFAULTS)).toBe(true);
    });
  });

  describe('keep-alive and the family notice', () => {
    it.each([
      ['keepAliveAfterDays', -1],
      ['keepAliveAfterDays', 90],
      ['keepAliveAfterDays', Number.NaN],
      ['keepAliveAfterDays', true],
      ['keepAliveAfterDays', '30'],
      ['keepAliveIntervalMs', -1],
      ['keepAliveIntervalMs', 1.5],
      ['keepAliveIntervalMs', 86_400_001],
      ['keepAliveRatePerSecond', 0],
      ['keepAliveRatePerSecond', -2],
      ['keepAliveRatePerSecond', Number.POSITIVE_INFINITY],
      ['keepAliveBatchSize', 0],
      ['keepAliveBatchSize', 2.5],
      ['keepAliveBatchSize', 10_001],
      ['familyLifetimeDays', 0],
      ['familyLifetimeDays', '365'],
      ['reconnectNoticeDays', -1],
      ['reconnectNoticeDays', 365],
    ] as const)('%s = %p', async (name, value) => {
      await expectOptionError({ ...required, [name]: value }, name);
    });

    it.each([false, 0, 0.5, 89.9] as const)('accepts keepAliveAfterDays %p', async (keepAliveAfterDays) => {
      await createTokenManager({ ...required, keepAliveAfterDays }).close();
    });

    it('the defaults: a sweep an hour of chains idle for 30 days, 2 a second, notice 14 days before 365', () => {
      expect(DEFAULTS).toMatchObject({
        keepAliveAfterDays: 30,
        keepAliveIntervalMs: 3_600_000,
        keepAliveRatePerSecond: 2,
        keepAliveBatchSize: 100,
        familyLifetimeDays: 365,
        reconnectNoticeDays: 14,
      });
    });
  });

  describe('injected functions', () => {
    it.each([
      ['fetch', 'https://example.test'],
      ['now', 1_700_000_000_000],
    ])('%s must be a function', async (option, value) => {
      await expectOptionError({ ...required, [option]: value }, option);
    });

    it('rideThroughFailures must be a boolean', async () => {
      await expectOptionError({ ...required, rideThroughFailures: 'yes' }, 'rideThroughFailures');
    });

    it('keyPrefix must be a string', async () => {
      await expectOptionError({ ...required, keyPrefix: 7 }, 'keyPrefix');
    });
  });

  describe('replica acknowledgements', () => {
    it.each([-1, 1.5, 'one', null])('replicasToAck %p', async (replicasToAck) => {
      await expectOptionError({ ...required, replicasToAck }, 'replicasToAck');
    });

    // WAIT with a timeout of 0 blocks for ever.
    it.each([0, -5, 2.5, '500'])('replicaAckTimeoutMs %p', async (replicaAckTimeoutMs) => {
      await expectOptionError({ ...required, replicaAckTimeoutMs }, 'replicaAckTimeoutMs');
    });

    it.each([0, 2, 'auto'])('accepts replicasToAck %p', async (replicasToAck) => {
      const manager = createTokenManager({ ...required, replicasToAck } as TokenManagerOptions);
      await manager.close();
    });
  });

  describe('redis, store, lock and encryptionKey', () => {
    it.each(['http://x', 'https://redis.example.test', 'localhost:6379', 'not a url'])(
      'redis %p',
      async (redis) => {
        await expectOptionError({ ...required, redis }, 'redis');
      },
    );

    it.each([42, true])('redis of type %p', async (redis) => {
      await expectOptionError({ ...required, redis }, 'redis');
    });

    it.each([
      [{}, 'redis must be a Redis URL'],
      [{ host: '127.0.0.1' }, 'redis must be a Redis URL'],
      [{ cluster: [] }, 'redis.cluster'],
      [{ cluster: '127.0.0.1:7000' }, 'redis.cluster'],
      [{ cluster: [7000], options: 'fast' }, 'redis.options'],
      [{ sentinels: [], name: 'primary' }, 'redis.sentinels'],
      [{ sentinels: [{ host: '127.0.0.1', port: 26379 }] }, 'redis.name'],
      [{ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: '' }, 'redis.name'],
    ])(
      'redis %p: cluster nodes and sentinels are checked before anything connects',
      async (redis, option) => {
        await expectOptionError({ ...required, redis }, option);
      },
    );

    it('a shared store with a distributed lock needs an encryptionKey', async () => {
      await expectOptionError(
        {
          ...required,
          store: fakeSharedStore(),
          lock: fakeDistributedLock(),
          notices: fakeDistributedNotices(),
        },
        'encryptionKey',
      );
    });

    it('a shared store without a lock or redis is refused (the default lock is in-process)', async () => {
      await expectOptionError({ ...required, store: fakeSharedStore(), encryptionKey: KEY }, 'lock');
    });

    it('a shared store with an in-process lock is refused', async () => {
      await expectOptionError(
        { ...required, store: fakeSharedStore(), lock: new InProcessRefreshLock(), encryptionKey: KEY },
        'lock',
      );
    });

    it('a distributed lock around the in-process store is refused', async () => {
      await expectOptionError({ ...required, lock: fakeDistributedLock() }, 'store');
    });

    it('a shared store with a distributed lock and a key is accepted, and neither is closed by the manager', async () => {
      const store = fakeSharedStore();
      const lock = fakeDistributedLock();
      const notices = fakeDistributedNotices();
      await createTokenManager({
        ...required,
        store,
        lock,
        notices,
        encryptionKey: KEY,
        recoveryIntervalMs: 0,
      }).close();
      expect(lock.close).not.toHaveBeenCalled();
      expect(notices.close).not.toHaveBeenCalled();
    });

    it('a distributed lock with an in-process notice channel is refused', async () => {
      await expectOptionError(
        { ...required, store: fakeSharedStore(), lock: fakeDistributedLock(), encryptionKey: KEY },
        'notices',
      );
      await expectOptionError(
        {
          ...required,
          store: fakeSharedStore(),
          lock: fakeDistributedLock(),
          notices: new InProcessNoticeChannel(),
          encryptionKey: KEY,
        },
        'notices',
      );
      await expectOptionError(
        {
          ...required,
          redis: 'redis://127.0.0.1:1',
          notices: new InProcessNoticeChannel(),
          encryptionKey: KEY,
        },
        'notices',
      );
    });

    it('a distributed notice channel with an in-process lock and store is refused', async () => {
      await expectOptionError({ ...required, notices: fakeDistributedNotices() }, 'notices');
      await expectOptionError(
        { ...required, lock: new InProcessRefreshLock(), notices: fakeDistributedNotices() },
        'notices',
      );
    });

    it('an explicit MemoryTokenStore is not shared: no key needed', async () => {
      await createTokenManager({ ...required, store: new MemoryTokenStore() }).close();
    });

    it.each([
      ['not base64', 'this is not a key!!'],
      ['16 bytes', randomBytes(16).toString('base64')],
      ['64 bytes', randomBytes(64).toString('base64')],
    ])('a bad encryptionKey (%s) is named, never echoed', async (_, key) => {
      await expectOptionError({ ...required, encryptionKey: key }, 'encryptionKey', key);
    });

    it('a bad key in a list is named by its index', async () => {
      const bad = randomBytes(16).toString('base64');
      await expectOptionError({ ...required, encryptionKey: [KEY, bad] }, 'encryptionKey[1]', bad);
    });

    it('an empty key list is refused', async () => {
      await expectOptionError({ ...required, encryptionKey: [] }, 'encryptionKey');
    });

    it('accepts a key and a list of keys', async () => {
      await createTokenManager({ ...required, encryptionKey: KEY }).close();
      await createTokenManager({
        ...required,
        encryptionKey: [KEY, randomBytes(32).toString('base64')],
      }).close();
    });
  });

  describe('the embedded default', () => {
    const savedEnv = process.env.NODE_ENV;

    afterEach(() => {
      if (savedEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = savedEnv;
    });

    it('works without an encryptionKey: saves and serves a token', async () => {
      const manager = createTokenManager({ ...required, fetch: jest.fn() as unknown as typeof fetch });
      try {
        const user = { clientKey: 'tenant-1', accountId: 'alice' };
        await manager.save(user, { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 });
        await expect(manager.getAccessToken(user)).resolves.toMatchObject({ accessToken: 'at-1' });
      } finally {
        await manager.close();
      }
    });

    it('does not warn outside production', async () => {
      process.env.NODE_ENV = 'test';
      const logger = recordingLogger();
      await createTokenManager({ ...required, logger }).close();
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it('warns through the injected logger when NODE_ENV=production', async () => {
      process.env.NODE_ENV = 'production';
      const logger = recordingLogger();
      await createTokenManager({ ...required, logger }).close();
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'in_process_store' }),
        expect.stringContaining('set REDIS_URL'),
      );
    });

    it('does not warn about the in-process store in production when a store is passed', async () => {
      process.env.NODE_ENV = 'production';
      const logger = recordingLogger();
      const store = fakeSharedStore();
      await createTokenManager({
        ...required,
        logger,
        store,
        lock: fakeDistributedLock(),
        notices: fakeDistributedNotices(),
        encryptionKey: KEY,
      }).close();
      expect(logger.warn).not.toHaveBeenCalledWith({ event: 'in_process_store' }, expect.anything());
    });
  });
});
