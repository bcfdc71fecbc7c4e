// The production lock: redlock over ioredis for cluster-wide exclusion, one pub/sub connection per process for notices.

import { ExecutionError, Redlock, ResourceLockedError } from '@sesamecare-oss/redlock';
import type { Lock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { LockUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { NoticeHub, assertNotice, isNoticeKind } from '../lock/notice-hub';
import { type Notice, type RefreshLock, assertJobName } from '../lock/refresh-lock';
import type { UserRef } from '../types';
import { assertUserRef, encodeAccountId, parseUserId, tenantTag, userId } from '../store/user-key';

/** Options of {@link RedlockRefreshLock}. Defaults are in {@link REDLOCK_REFRESH_LOCK_DEFAULTS}. */
export interface RedlockRefreshLockOptions {
  /**
   * An ioredis client, which the lock uses for lock commands and `PUBLISH` and never closes; or a
   * Redis URL, from which it creates a client of its own that {@link RedlockRefreshLock.close}
   * quits. Either way the subscriber connection is a `duplicate()` of it, with the same options.
   * How long an unreachable Redis stalls a call is the client's business: set `commandTimeout`
   * or a small `maxRetriesPerRequest` on it.
   */
  redis: Redis | string;
  /** Prefix of the lock keys and of the notice channel `${keyPrefix}notices`. Default `jtr:`. */
  keyPrefix?: string;
  /** Time to live of a lock, in ms (an integer), extended while its holder runs. Default 40 000. */
  lockTtlMs?: number;
  /**
   * A held lock is extended when this many ms of its time to live remain; failed extensions are
   * retried until it expires. Default `min(5 000, lockTtlMs / 4)`; must be below `lockTtlMs`.
   */
  extensionThresholdMs?: number;
  /** `CLIENT SETNAME` of the subscriber connection, to find it in `CLIENT LIST`. Default `jtr-notices`. */
  subscriberName?: string;
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
}

/** The defaults of {@link RedlockRefreshLockOptions}. */
export const REDLOCK_REFRESH_LOCK_DEFAULTS = Object.freeze({
  keyPrefix: 'jtr:',
  lockTtlMs: 40_000,
  maxExtensionThresholdMs: 5_000,
  subscriberName: 'jtr-notices',
});

/** Who holds a lock, for log lines: a user's identifiers, or a job's name. */
type LockSubject = { clientKey: string; accountId: string } | { job: string };

/** Retry-After of every LockUnavailableError: long enough for a Redis restart or failover to start. */
const RETRY_AFTER_SECONDS = 5;

/**
 * A {@link RefreshLock} shared by every process that uses the same Redis.
 *
 * - `tryWithLock` makes one attempt at the redlock lock `${keyPrefix}{t:<tenant>}:lock:<account>`
 *   (the tenant's hash tag, so it shares a Redis Cluster slot with the tenant's records). A lock
 *   held elsewhere is `{ acquired: false }` at once: the caller waits for a notice instead of
 *   retrying. Redis failures become {@link LockUnavailableError}, never a raw redlock error.
 *   While `fn` runs the lock is extended; if that fails until the lock expires, or another holder
 *   has the key, `fn`'s signal aborts with a `LockUnavailableError` as its `reason`. A failed
 *   release is logged, never thrown: the key expires by itself within `lockTtlMs`.
 * - Notices travel as `{"u": userId, "k": kind}` on the channel `${keyPrefix}notices`. The
 *   subscriber connection is created and subscribed in the constructor; it is the only extra
 *   connection per instance (invariant 9), and every waiter is served from memory. If it drops,
 *   the lock re-subscribes when it reconnects; until then waiters fall back to their timeouts.
 *
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export class RedlockRefreshLock implements RefreshLock {
  readonly distributed = true;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly subscriber: Redis;
  private readonly redlock: Redlock;
  private readonly hub: NoticeHub;
  private readonly logger: Logger;
  private readonly keyPrefix: string;
  private readonly channel: string;
  private readonly lockTtlMs: number;
  private readonly extensionThresholdMs: number;
  private subscribed = false;
  private subscribing?: Promise<void>;
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
      Math.min(REDLOCK_REFRESH_LOCK_DEFAULTS.maxExtensionThresholdMs, Math.floor(lockTtlMs / 4));
    if (
      !Number.isInteger(extensionThresholdMs) ||
      extensionThresholdMs <= 0 ||
      extensionThresholdMs >= lockTtlMs
    ) {
      throw new TypeError(
        'extensionThresholdMs must be an integer number of milliseconds between 0 and lockTtlMs',
      );
    }
    const subscriberName = options.subscriberName ?? REDLOCK_REFRESH_LOCK_DEFAULTS.subscriberName;
    // CLIENT SETNAME refuses spaces and newlines; better to say so now than to lose the name silently.
    if (typeof subscriberName !== 'string' || !/^[!-~]+$/.test(subscriberName)) {
      throw new TypeError('subscriberName must be a non-empty string of printable ASCII without spaces');
    }
    const { redis } = options;
    if (typeof redis !== 'string' && (!redis || typeof redis.duplicate !== 'function')) {
      throw new TypeError('redis must be an ioredis client or a Redis URL');
    }
    this.logger = options.logger ?? silentLogger;
    this.ownsClient = typeof redis === 'string';
    this.client = typeof redis === 'string' ? new Redis(redis) : redis;
    if (this.ownsClient) {
      // Nobody else can listen on a client we created; without a listener ioredis prints its errors itself.
      this.client.on('error', (error: Error) =>
        this.logger.warn({ err: error }, 'Refresh lock Redis connection error'),
      );
    }
    const db = this.client.options.db ?? 0;
    // Redlock's scripts SELECT its `db` setting (default 0) and accept only 0-15; without passing
    // the client's own database, the lock keys would silently land in database 0.
    if (!Number.isInteger(db) || db < 0 || db > 15) {
      if (this.ownsClient) this.client.disconnect();
      throw new TypeError(
        'RedlockRefreshLock needs the Redis client on database 0-15 (redlock supports no others)',
      );
    }
    this.keyPrefix = keyPrefix;
    this.channel = `${keyPrefix}notices`;
    this.lockTtlMs = lockTtlMs;
    this.extensionThresholdMs = extensionThresholdMs;
    this.hub = new NoticeHub(this.logger);
    // One attempt only: a lock held elsewhere means "wait for the notice", never a retry storm.
    this.redlock = new Redlock([this.client], { retryCount: 0, db });

    // No autoResubscribe: ioredis's own re-subscription after a reconnect leaves its promise
    // unhandled, so a reconnect that fails again, times out or meets close() before Redis answers
    // became an unhandled rejection, which crashes a Node process. This lock re-subscribes itself.
    this.subscriber = this.client.duplicate({ connectionName: subscriberName, autoResubscribe: false });
    this.subscriber.on('error', (error: Error) =>
      this.logger.warn(
        { err: error },
        'Notice subscriber connection error; waiters fall back to their timeouts',
      ),
    );
    this.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
    // Every new connection subscribes, unless an attempt is still under way (ioredis re-sends one
    // that a dropped connection left unanswered); one that failed is retried on the next connection.
    this.subscriber.on('ready', () => {
      if (!this.subscribing && !this.closing) this.subscribe();
    });
    this.subscribe();
  }

  /**
   * Resolves once the notice subscription has been confirmed by Redis (at least once; later
   * reconnects re-subscribe by themselves). Rejects with {@link LockUnavailableError} when the
   * current attempt failed, or when the lock is closed.
   */
  async ready(): Promise<void> {
    this.assertOpen();
    if (this.subscribed) return;
    const attempt = this.subscribing;
    if (!attempt) {
      throw new LockUnavailableError(
        'The notice subscription is not established: Redis is unreachable',
        RETRY_AFTER_SECONDS,
      );
    }
    try {
      await attempt;
    } catch (error) {
      throw new LockUnavailableError(
        'Could not subscribe to notices: Redis is unreachable',
        RETRY_AFTER_SECONDS,
        error,
      );
    }
  }

  /** @inheritDoc */
  async tryWithLock<T>(
    user: UserRef,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertUserRef(user);
    if (typeof fn !== 'function') throw new TypeError('tryWithLock(user, fn): fn must be a function');
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
    assertJobName(job);
    if (typeof fn !== 'function') throw new TypeError('tryWithJobLock(job, fn): fn must be a function');
    this.assertOpen();
    return this.tryHolding(`${this.keyPrefix}job:${job}`, { job }, fn);
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
        RETRY_AFTER_SECONDS,
        error,
      );
    }
    const hold = this.keepAlive(lock, subject);
    try {
      return { acquired: true, value: await fn(hold.signal) };
    } finally {
      await this.release(hold.stop(), hold.signal, subject);
    }
  }

  /** @inheritDoc */
  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    return this.hub.wait(user, ms);
  }

  /** @inheritDoc */
  async publish(notice: Notice): Promise<void> {
    assertNotice(notice);
    this.assertOpen();
    // The user id and the kind only: a notice never carries a token (invariant 6).
    const message = JSON.stringify({ u: userId(notice.user), k: notice.kind, o: notice.origin });
    try {
      await this.client.publish(this.channel, message);
    } catch (error) {
      throw new LockUnavailableError(
        'Could not publish the notice: Redis did not answer',
        RETRY_AFTER_SECONDS,
        error,
      );
    }
  }

  /** @inheritDoc */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /**
   * Resolves pending waits with `null`, quits the subscriber connection (which drops its
   * subscription) and, when the lock was given a URL, its own client. A client passed in stays
   * open. Holders still running finish and release normally (with a URL, their release may fail
   * and the lock then expires by its TTL). Later `tryWithLock`, `publish` and `ready` reject.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.close();
      await quit(this.subscriber);
      if (this.ownsClient) await quit(this.client);
    })();
    return this.closing;
  }

  private lockKey(user: UserRef): string {
    return `${this.keyPrefix}${tenantTag(user.clientKey)}:lock:${encodeAccountId(user.accountId)}`;
  }

  private subscribe(): void {
    const attempt = this.subscriber.subscribe(this.channel).then(() => undefined);
    this.subscribing = attempt;
    attempt.then(
      () => {
        this.subscribed = true;
        this.subscribing = undefined;
      },
      (error: unknown) => {
        this.subscribing = undefined;
        if (this.closing) return;
        this.logger.warn(
          { event: 'notice_subscribe_failed', err: error },
          'Could not subscribe to notices; retrying on the next connection',
        );
      },
    );
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    const notice = parseNotice(message);
    // Anything else on our channel is not ours to act on, nor worth more than a debug line.
    if (!notice) return this.logger.debug({ channel }, 'Ignored a malformed notice');
    this.hub.dispatch(notice);
  }

  /**
   * Extends the lock while its holder runs, and aborts the holder's signal once the lock is lost:
   * another holder has the key, or its expiry came before any extension succeeded. (Redlock's
   * `using` does the extending too, but retries a failed extension in a tight loop and lets a
   * failed release replace the routine's own result or error; this does neither.)
   */
  private keepAlive(initial: Lock, subject: LockSubject): { signal: AbortSignal; stop(): Lock } {
    const controller = new AbortController();
    const retryDelayMs = Math.max(10, Math.floor(this.extensionThresholdMs / 5));
    let lock = initial;
    let stopped = false;
    let extendTimer: NodeJS.Timeout | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;

    const done = (): boolean => stopped || controller.signal.aborted;
    const lose = (reason: string, cause?: unknown): void => {
      if (done()) return;
      clearTimeout(extendTimer);
      clearTimeout(expiryTimer);
      this.logger.warn({ ...subject, err: cause }, `Lost the refresh lock: ${reason}`);
      controller.abort(
        new LockUnavailableError(`The refresh lock was lost: ${reason}`, RETRY_AFTER_SECONDS, cause),
      );
    };
    const armExpiry = (): void => {
      clearTimeout(expiryTimer);
      // Fires even while an extension hangs (a client queueing commands offline): past the lock's
      // expiry, exclusion is no longer certain, whatever Redis eventually answers.
      expiryTimer = setTimeout(
        () => lose('it expired before it could be extended'),
        lock.expiration - Date.now(),
      );
    };
    const extend = async (): Promise<void> => {
      try {
        const extended = await this.redlock.extend(lock, this.lockTtlMs);
        if (done()) return;
        lock = extended;
        armExpiry();
        extendTimer = setTimeout(extend, lock.expiration - Date.now() - this.extensionThresholdMs);
      } catch (error) {
        if (done()) return;
        if (await lockedByOther(error)) return lose('another holder has it', error);
        if (lock.expiration <= Date.now()) return lose('it expired before it could be extended', error);
        extendTimer = setTimeout(extend, retryDelayMs);
      }
    };

    armExpiry();
    extendTimer = setTimeout(extend, lock.expiration - Date.now() - this.extensionThresholdMs);
    return {
      signal: controller.signal,
      stop: () => {
        stopped = true;
        clearTimeout(extendTimer);
        clearTimeout(expiryTimer);
        return lock;
      },
    };
  }

  /** Never throws: a lock that cannot be released expires by itself within lockTtlMs. */
  private async release(lock: Lock, signal: AbortSignal, subject: LockSubject): Promise<void> {
    try {
      await this.redlock.release(lock);
    } catch (error) {
      // After a loss the failure is expected (and must not delete the new holder's key, nor does it).
      this.logger[signal.aborted ? 'debug' : 'warn'](
        { ...subject, err: error },
        'Could not release the refresh lock; it expires by itself',
      );
    }
  }

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closing) throw new LockUnavailableError('The Redis refresh lock is closed', RETRY_AFTER_SECONDS);
  }
}

/**
 * True when a redlock error means "the key is held by someone else" on every vote; any other
 * failure (connection refused, timeout, script error) is Redis being unavailable.
 */
async function lockedByOther(error: unknown): Promise<boolean> {
  if (!(error instanceof ExecutionError) || error.attempts.length === 0) return false;
  for (const attempt of error.attempts) {
    const { votesAgainst } = await attempt;
    if (votesAgainst.size === 0) return false;
    for (const vote of votesAgainst.values()) if (!(vote instanceof ResourceLockedError)) return false;
  }
  return true;
}

/** Decodes a message off the channel, or `null` if it is not a well-formed notice. */
function parseNotice(message: string): Notice | null {
  let data: unknown;
  try {
    data = JSON.parse(message);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const { u, k, o } = data as { u?: unknown; k?: unknown; o?: unknown };
  if (typeof u !== 'string' || !isNoticeKind(k)) return null;
  if (o !== undefined && (typeof o !== 'string' || o.length > 64)) return null;
  try {
    const notice: Notice = { user: parseUserId(u), kind: k, ...(o === undefined ? {} : { origin: o }) };
    assertNotice(notice);
    // Only the canonical encoding: base64url decoding tolerates junk that could alias another user.
    return userId(notice.user) === u ? notice : null;
  } catch {
    return null;
  }
}

/** Quits a connection politely if it is up, else drops it; resolves once it has ended. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    const ended = new Promise((resolve) => connection.once('end', resolve));
    try {
      await connection.quit();
      await ended;
      return;
    } catch {
      // Fall through: the connection died under the QUIT.
    }
  }
  connection.disconnect();
}
