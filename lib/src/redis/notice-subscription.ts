// How a RedisNoticeChannel hears notices and where it sends them, by kind of Redis: one channel for
// everyone on a single node, or one channel per tenant (sharded pub/sub) on a Cluster.

import type { Redis } from 'ioredis';
import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import { quit } from './redis-connection';

/** What the channel needs of a subscription, whatever the kind of Redis. */
export interface NoticeSubscription {
  /** Sends a notice about a user of the tenant to every process. */
  publish(clientKey: string, message: string): Promise<unknown>;
  /**
   * Makes sure notices about the tenant's users reach this process from now on (or once Redis
   * confirms). Never throws: a failure is logged and retried on the next call.
   */
  follow(clientKey: string): void;
  /** Resolves once notices can arrive; rejects with {@link LockUnavailableError} when they cannot. */
  ready(): Promise<void>;
  /** Quits the subscriber connection(s). */
  close(): Promise<void>;
}

/** Where a subscription hands what arrives, and what it needs to start. */
export interface SubscriptionSettings {
  /** `CLIENT SETNAME` of the subscriber connection(s). */
  name: string;
  logger: Logger;
  /** Called with each message on a channel of this subscription. */
  receive(channel: string, message: string): void;
  /** Called once Redis confirmed the first subscription covering the tenant (sharded only). */
  followed(clientKey: string): void;
}

/**
 * A single node (or a Sentinel-found primary): `PUBLISH` and `SUBSCRIBE` on one channel, one
 * subscriber connection, subscribed at once and again on every reconnection.
 */
export class NodeNoticeSubscription implements NoticeSubscription {
  /** The subscriber connection; exposed for tests and diagnostics. */
  readonly subscriber: Redis;
  private subscribed = false;
  private subscribing?: Promise<void>;
  private closing = false;

  constructor(
    private readonly client: Redis,
    private readonly channel: string,
    private readonly settings: SubscriptionSettings,
  ) {
    const { logger } = settings;
    // No autoResubscribe: ioredis's own re-subscription after a reconnect leaves its promise
    // unhandled, so a reconnect that fails again, times out or meets close() before Redis answers
    // became an unhandled rejection, which crashes a Node process. This subscription re-subscribes itself.
    this.subscriber = client.duplicate({ connectionName: settings.name, autoResubscribe: false });
    this.subscriber.on('error', (error: Error) =>
      logger.warn({ err: error }, 'Notice subscriber connection error; waiters fall back to their timeouts'),
    );
    this.subscriber.on('message', (on: string, message: string) => {
      if (on === this.channel) settings.receive(on, message);
    });
    // Every new connection subscribes, unless an attempt is still under way (ioredis re-sends one
    // that a dropped connection left unanswered); one that failed is retried on the next connection.
    this.subscriber.on('ready', () => {
      if (!this.subscribing && !this.closing) this.subscribe();
    });
    this.subscribe();
  }

  publish(_clientKey: string, message: string): Promise<unknown> {
    return this.client.publish(this.channel, message);
  }

  follow(): void {
    // Every tenant's notices travel on the one channel, subscribed from the start.
  }

  async ready(): Promise<void> {
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

  async close(): Promise<void> {
    this.closing = true;
    await quit(this.subscriber);
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
        this.settings.logger.warn(
          { event: 'notice_subscribe_failed', err: error },
          'Could not subscribe to notices; retrying on the next connection',
        );
      },
    );
  }
}
