// The production notice channel: Redis pub/sub, with one subscriber connection per process whose
// notices are fanned out in memory to every waiter and listener.

import type { Redis } from 'ioredis';
import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { DEFAULTS } from '../manager/options';
import { type Notice, assertNotice } from '../notice/notice';
import type { NoticeChannel } from '../notice/notice-channel';
import { NoticeHub } from '../notice/notice-hub';
import type { UserRef } from '../types';
import { encodeNotice, parseNotice } from './notice-wire-format';
import { connectRedis, quit } from './redis-connection';

/** Options of {@link RedisNoticeChannel}. */
export interface RedisNoticeChannelOptions {
  /**
   * An ioredis client, which the channel uses for `PUBLISH` and never closes; or a Redis URL, from
   * which it creates a client of its own that {@link RedisNoticeChannel.close} quits. Either way
   * the subscriber connection is a `duplicate()` of it, with the same options.
   */
  redis: Redis | string;
  /** The channel is `${keyPrefix}notices`. Default `DEFAULTS.keyPrefix` (`jtr:`). */
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
 * Notices travel as `{"u": userId, "k": kind, "o": origin}` on the channel `${keyPrefix}notices`.
 * The subscriber connection is created and subscribed in the constructor; it is the only extra
 * connection per instance (invariant 9), and every waiter is served from memory. If it drops, the
 * channel re-subscribes when it reconnects; until then waiters fall back to their timeouts.
 * Redis failures become {@link LockUnavailableError}s (HTTP 503), as they were when the lock
 * carried the notices.
 */
export class RedisNoticeChannel implements NoticeChannel {
  readonly distributed = true;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly subscriber: Redis;
  private readonly hub: NoticeHub;
  private readonly logger: Logger;
  private readonly channel: string;
  private subscribed = false;
  private subscribing?: Promise<void>;
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
    this.channel = `${keyPrefix}notices`;
    this.hub = new NoticeHub(this.logger);

    // No autoResubscribe: ioredis's own re-subscription after a reconnect leaves its promise
    // unhandled, so a reconnect that fails again, times out or meets close() before Redis answers
    // became an unhandled rejection, which crashes a Node process. This channel re-subscribes itself.
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
   * Resolves once the subscription has been confirmed by Redis (at least once; later reconnects
   * re-subscribe by themselves). Rejects with {@link LockUnavailableError} when the current
   * attempt failed, or when the channel is closed.
   */
  async ready(): Promise<void> {
    this.assertOpen();
    if (this.subscribed) return;
    const attempt = this.subscribing;
    if (!attempt) {
      throw new LockUnavailableError(
        'The notice subscription is not established: Redis is unreachable',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
      );
    }
    try {
      await attempt;
    } catch (error) {
      throw new LockUnavailableError(
        'Could not subscribe to notices: Redis is unreachable',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        error,
      );
    }
  }

  /** @inheritDoc */
  async publish(notice: Notice): Promise<void> {
    assertNotice(notice);
    this.assertOpen();
    try {
      await this.client.publish(this.channel, encodeNotice(notice));
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
    return this.hub.wait(user, ms);
  }

  /** @inheritDoc */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /**
   * Resolves pending waits with `null`, quits the subscriber connection (which drops its
   * subscription) and, when the channel was given a URL, its own client. A client passed in stays
   * open. Later `publish` and `ready` reject.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.close();
      await quit(this.subscriber);
      if (this.ownsClient) await quit(this.client);
    })();
    return this.closing;
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

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closing) {
      throw new LockUnavailableError('The Redis notice channel is closed', UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
  }
}
