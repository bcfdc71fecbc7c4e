// The production notice channel: Redis pub/sub, with one subscriber per process whose notices are
// fanned out in memory to every waiter and listener.

import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { DEFAULTS } from '../manager/options';
import { type Notice, assertNotice } from '../notice/notice';
import type { NoticeChannel } from '../notice/notice-channel';
import { NoticeHub } from '../notice/notice-hub';
import type { UserRef } from '../types';
import { encodeNotice, parseNotice } from './notice-wire-format';
import { NodeNoticeSubscription, type NoticeSubscription } from './notice-subscription';
import { connectRedis, quit } from './redis-connection';
import { type RedisClient, type RedisInput, isCluster } from './redis-input';
import { ShardedNoticeSubscription } from './sharded-notice-subscription';

/** Options of {@link RedisNoticeChannel}. */
export interface RedisNoticeChannelOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`), which the channel uses to publish and never closes;
   * or what to build one from (a URL, `{ cluster, options? }` or `{ sentinels, name }`), which
   * {@link RedisNoticeChannel.close} quits. Either way the subscriber is a `duplicate()` of it,
   * with the same options.
   */
  redis: RedisInput;
  /**
   * The channel is `${keyPrefix}notices`; on a Cluster, `${keyPrefix}{t:<tenant>}:notices` per
   * tenant. Default `DEFAULTS.keyPrefix` (`jtr:`).
   */
  keyPrefix?: string;
  /** `CLIENT SETNAME` of the subscriber connection, to find it in `CLIENT LIST`. Default `jtr-notices`. */
  subscriberName?: string;
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
}

/** The default `CLIENT SETNAME` of the subscriber connection. */
export const DEFAULT_SUBSCRIBER_NAME = 'jtr-notices';

/**
 * A {@link NoticeChannel} shared by every process that uses the same Redis.
 *
 * Notices travel as `{"u": userId, "k": kind, "o": origin}`. On a single node (or a primary found
 * through Sentinel) they go by `PUBLISH` on `${keyPrefix}notices`, to one subscriber connection
 * per instance, subscribed in the constructor (invariant 9). On a Redis Cluster they go by sharded
 * pub/sub (`SPUBLISH`) on `${keyPrefix}{t:<tenant>}:notices`, in the slot of the tenant's records,
 * so a notice costs one shard, however many nodes the cluster has; the subscriber is a Cluster
 * `duplicate()` with one connection per primary, and follows a tenant from the first wait for, or
 * publish about, one of its users in this process; the tenant's waiters registered before Redis
 * confirmed that first `SSUBSCRIBE` then read again, since their notice may have gone unheard. Every waiter is
 * served from memory. If the subscriber drops, it re-subscribes when it reconnects; until then
 * waiters fall back to their timeouts. Redis failures become {@link LockUnavailableError}s (HTTP
 * 503), as they were when the lock carried the notices.
 */
export class RedisNoticeChannel implements NoticeChannel {
  readonly distributed = true;
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly subscription: NoticeSubscription;
  private readonly hub: NoticeHub;
  private readonly logger: Logger;
  private closing?: Promise<void>;

  /** @throws TypeError when an option is malformed. */
  constructor(options: RedisNoticeChannelOptions) {
    if (!options || typeof options !== 'object')
      throw new TypeError('RedisNoticeChannel(options): options must be an object');
    const keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    if (typeof keyPrefix !== 'string') throw new TypeError('keyPrefix must be a string');
    const subscriberName = options.subscriberName ?? DEFAULT_SUBSCRIBER_NAME;
    // CLIENT SETNAME refuses spaces and newlines; better to say so now than to lose the name silently.
    if (typeof subscriberName !== 'string' || !/^[!-~]+$/.test(subscriberName)) {
      throw new TypeError('subscriberName must be a non-empty string of printable ASCII without spaces');
    }
    this.logger = options.logger ?? silentLogger;
    const { client, owned } = connectRedis(options.redis, this.logger, 'Notice channel');
    this.client = client;
    this.ownsClient = owned;
    this.hub = new NoticeHub(this.logger);
    const settings = {
      name: subscriberName,
      logger: this.logger,
      receive: (channel: string, message: string) => this.receive(channel, message),
      followed: (clientKey: string) => this.hub.release(clientKey),
    };
    this.subscription = isCluster(client)
      ? new ShardedNoticeSubscription(client, keyPrefix, settings)
      : new NodeNoticeSubscription(client, `${keyPrefix}notices`, settings);
  }

  /**
   * Resolves once the subscription has been confirmed by Redis (at least once; later reconnects
   * re-subscribe by themselves); on a Cluster, once the subscriber reaches it. Rejects with
   * {@link LockUnavailableError} when the current attempt failed, or when the channel is closed.
   */
  async ready(): Promise<void> {
    this.assertOpen();
    await this.subscription.ready();
  }

  /** @inheritDoc */
  async publish(notice: Notice): Promise<void> {
    assertNotice(notice);
    this.assertOpen();
    try {
      await this.subscription.publish(notice.user.clientKey, encodeNotice(notice));
    } catch (error) {
      throw new LockUnavailableError(
        'Could not publish the notice: Redis did not answer',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        error,
      );
    }
  }

  /** @inheritDoc */
  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    const wait = this.hub.wait(user, ms);
    if (!this.closing) this.subscription.follow(user.clientKey);
    return wait;
  }

  /** @inheritDoc */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /**
   * Resolves pending waits with `null`, quits the subscriber (which drops its subscriptions) and,
   * when the channel built its own client, that client. A client passed in stays open. Later
   * `publish` and `ready` reject.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.close();
      await this.subscription.close();
      if (this.ownsClient) await quit(this.client);
    })();
    return this.closing;
  }

  private receive(channel: string, message: string): void {
    const notice = parseNotice(message);
    // Anything else on our channel is not ours to act on, nor worth more than a debug line.
    if (!notice) return this.logger.debug({ channel }, 'Ignored a malformed notice');
    this.hub.dispatch(notice);
  }

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closing) {
      throw new LockUnavailableError('The Redis notice channel is closed', UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
  }
}
