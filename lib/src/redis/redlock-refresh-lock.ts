// The production lock: redlock over ioredis, for exclusion across every process on one Redis.

import { Redlock } from '@sesamecare-oss/redlock';
import type { Lock } from '@sesamecare-oss/redlock';
import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { assertLockCall } from '../lock/lock-call-guard';
import type { RefreshLock } from '../lock/refresh-lock';
import { DEFAULTS } from '../manager/options';
import type { UserRef } from '../types';
import { encodeAccountId, tenantTag } from '../store/user-key';
import { type LockSubject, holdLock, lockedByOther, releaseLock } from './redlock-lock-hold';
import { connectRedis, quit } from './redis-connection';
import { type RedisClient, type RedisInput, isCluster } from './redis-input';

/** Options of {@link RedlockRefreshLock}. Defaults are in {@link REDLOCK_REFRESH_LOCK_DEFAULTS}. */
export interface RedlockRefreshLockOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`), which the lock uses for lock commands and never
   * closes; or what to build one from (a URL, `{ cluster, options? }` or `{ sentinels, name }`),
   * which {@link RedlockRefreshLock.close} quits. How long an unreachable Redis stalls a call is
   * the client's business: set `commandTimeout` or a small `maxRetriesPerRequest` on it. Each lock
   * is one key, so a Cluster needs nothing more.
   */
  redis: RedisInput;
  /** Prefix of the lock keys. Default `DEFAULTS.keyPrefix` (`jtr:`). */
  keyPrefix?: string;
  /**
   * Time to live of a lock, in ms (an integer), extended while its holder runs. Default
   * `DEFAULTS.lockTtlMs` (6 000): short, since it is how long a dead holder's key lingers.
   */
  lockTtlMs?: number;
  /**
   * A held lock is extended when this many ms of its time to live remain; failed extensions are
   * retried until it expires. Default `min(5 000, lockTtlMs / 2)`, so a short lock has half
   * its life left for retries; must be below `lockTtlMs`.
   */
  extensionThresholdMs?: number;
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
}

/** The defaults of {@link RedlockRefreshLockOptions}: the manager's, and the lock's own. */
export const REDLOCK_REFRESH_LOCK_DEFAULTS = Object.freeze({
  keyPrefix: DEFAULTS.keyPrefix,
  lockTtlMs: DEFAULTS.lockTtlMs,
  maxExtensionThresholdMs: 5_000,
});

/**
 * A {@link RefreshLock} shared by every process that uses the same Redis.
 *
 * `tryWithLock` makes one attempt at the redlock lock `${keyPrefix}{t:<tenant>}:lock:<account>`
 * (the tenant's hash tag, so it shares a Redis Cluster slot with the tenant's records). A lock
 * held elsewhere is `{ acquired: false }` at once: the caller waits for a notice (on a
 * `RedisNoticeChannel`) instead of retrying. Redis failures become {@link LockUnavailableError},
 * never a raw redlock error. While `fn` runs the lock is extended; if that fails until the lock
 * expires, or another holder has the key, `fn`'s signal aborts with a `LockUnavailableError` as
 * its `reason`. A failed release is logged, never thrown: the key expires by itself within
 * `lockTtlMs`.
 *
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export class RedlockRefreshLock implements RefreshLock {
  readonly distributed = true;
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly redlock: Redlock;
  private readonly logger: Logger;
  private readonly keyPrefix: string;
  private readonly lockTtlMs: number;
  private readonly extensionThresholdMs: number;
  private closing?: Promise<void>;

  /** @throws TypeError when an option is malformed. */
  constructor(options: RedlockRefreshLockOptions) {
    if (!options || typeof options !== 'object')
      throw new TypeError('RedlockRefreshLock(options): options must be an object');
    const keyPrefix = options.keyPrefix ?? REDLOCK_REFRESH_LOCK_DEFAULTS.keyPrefix;
    if (typeof keyPrefix !== 'string') throw new TypeError('keyPrefix must be a string');
    const lockTtlMs = options.lockTtlMs ?? REDLOCK_REFRESH_LOCK_DEFAULTS.lockTtlMs;
    if (!Number.isInteger(lockTtlMs) || lockTtlMs < 100) {
      throw new TypeError('lockTtlMs must be an integer number of milliseconds, at least 100');
    }
    const extensionThresholdMs =
      options.extensionThresholdMs ??
      Math.min(REDLOCK_REFRESH_LOCK_DEFAULTS.maxExtensionThresholdMs, Math.floor(lockTtlMs / 2));
    if (
      !Number.isInteger(extensionThresholdMs) ||
      extensionThresholdMs <= 0 ||
      extensionThresholdMs >= lockTtlMs
    ) {
      throw new TypeError(
        'extensionThresholdMs must be an integer number of milliseconds between 0 and lockTtlMs',
      );
    }
    this.logger = options.logger ?? silentLogger;
    const { client, owned } = connectRedis(options.redis, this.logger, 'Refresh lock');
    this.client = client;
    this.ownsClient = owned;
    // A Cluster has only database 0.
    const db = isCluster(this.client) ? 0 : (this.client.options.db ?? 0);
    // Redlock's scripts SELECT its `db` setting (default 0) and accept only 0-15; without passing
    // the client's own database, the lock keys would silently land in database 0.
    if (!Number.isInteger(db) || db < 0 || db > 15) {
      if (this.ownsClient) this.client.disconnect();
      throw new TypeError(
        'RedlockRefreshLock needs the Redis client on database 0-15 (redlock supports no others)',
      );
    }
    this.keyPrefix = keyPrefix;
    this.lockTtlMs = lockTtlMs;
    this.extensionThresholdMs = extensionThresholdMs;
    // One attempt only: a lock held elsewhere means "wait for the notice", never a retry storm.
    this.redlock = new Redlock([this.client], { retryCount: 0, db });
  }

  /** @inheritDoc */
  async tryWithLock<T>(
    user: UserRef,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertLockCall('tryWithLock', user, fn);
    this.assertOpen();
    return this.tryHolding(this.lockKey(user), { clientKey: user.clientKey, accountId: user.accountId }, fn);
  }

  /**
   * Like {@link RedlockRefreshLock.tryWithLock}, on the key `${keyPrefix}job:<job>`: one holder
   * per job across every process on this Redis, extended while `fn` runs.
   */
  async tryWithJobLock<T>(
    job: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertLockCall('tryWithJobLock', job, fn);
    this.assertOpen();
    return this.tryHolding(`${this.keyPrefix}job:${job}`, { job }, fn);
  }

  /**
   * Refuses new work from now on and, when the lock was given a URL, quits its own client. A
   * client passed in stays open. Holders still running finish and release normally (with a URL,
   * their release may fail and the lock then expires by its TTL).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.ownsClient) await quit(this.client);
    })();
    return this.closing;
  }

  /** One attempt at `key`; `subject` names the holder in log lines (identifiers only). */
  private async tryHolding<T>(
    key: string,
    subject: LockSubject,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    let lock: Lock;
    try {
      lock = await this.redlock.acquire([key], this.lockTtlMs);
    } catch (error) {
      if (await lockedByOther(error)) return { acquired: false };
      throw new LockUnavailableError(
        'Could not take the refresh lock: Redis did not answer',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        error,
      );
    }
    const hold = holdLock(this.redlock, lock, subject, {
      lockTtlMs: this.lockTtlMs,
      extensionThresholdMs: this.extensionThresholdMs,
      logger: this.logger,
    });
    try {
      return { acquired: true, value: await fn(hold.signal) };
    } finally {
      await releaseLock(this.redlock, hold.stop(), hold.signal, subject, this.logger);
    }
  }

  private lockKey(user: UserRef): string {
    return `${this.keyPrefix}${tenantTag(user.clientKey)}:lock:${encodeAccountId(user.accountId)}`;
  }

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closing) {
      throw new LockUnavailableError('The Redis refresh lock is closed', UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
  }
}
