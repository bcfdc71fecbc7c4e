// Notices on a Redis Cluster: sharded pub/sub on a channel in each tenant's own slot, so a notice
// is handled by the one shard that holds the tenant's records instead of crossing the cluster bus
// to every node (as PUBLISH does), and the failure of one primary silences only its own tenants.

import type { Cluster } from 'ioredis';
import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import { tenantTag } from '../store/user-key';
import type { NoticeSubscription, SubscriptionSettings } from './notice-subscription';
import { quit } from './redis-connection';
import { SubscriberConnector } from './subscriber-connector';

/**
 * `SPUBLISH` and `SSUBSCRIBE` on `${keyPrefix}{t:<tenant>}:notices`. The subscriber is a Cluster
 * of its own with ioredis's `shardedSubscribers` (one connection per primary, re-subscribed by
 * ioredis when the slots move). Tenants are followed from their first wait or publish in this
 * process and never dropped: a process serves a bounded set of Jira sites.
 */
export class ShardedNoticeSubscription implements NoticeSubscription {
  /** The subscriber Cluster; exposed for tests and diagnostics. */
  readonly subscriber: Cluster;
  /** Channels followed, with their SSUBSCRIBE under way or done. */
  private readonly followed = new Map<string, Promise<void>>();
  private closing = false;

  constructor(
    private readonly client: Cluster,
    private readonly keyPrefix: string,
    private readonly settings: SubscriptionSettings,
  ) {
    // Cluster.duplicate takes (startupNodes, options): the node options, where the connection name
    // goes, are `redisOptions`; a single-node style `duplicate({ connectionName })` is ignored.
    // A caller's own Connector (a tunnel, say) is kept; without one, SubscriberConnector keeps a
    // failover's late reply from crashing the process (see there).
    const redisOptions = client.options.redisOptions ?? {};
    this.subscriber = client.duplicate([], {
      shardedSubscribers: true,
      redisOptions: {
        ...redisOptions,
        connectionName: settings.name,
        Connector: redisOptions.Connector ?? SubscriberConnector,
      },
    });
    this.subscriber.on('error', (error: Error) =>
      settings.logger.warn(
        { err: error },
        'Notice subscriber connection error; waiters fall back to their timeouts',
      ),
    );
    this.subscriber.on('smessage', (channel: string, message: string) => {
      if (this.followed.has(channel)) settings.receive(channel, message);
    });
  }

  publish(clientKey: string, message: string): Promise<unknown> {
    // The process that changes a tenant's records caches its tokens too: it must hear of others'.
    this.follow(clientKey);
    return this.client.spublish(this.channel(clientKey), message);
  }

  follow(clientKey: string): void {
    const channel = this.channel(clientKey);
    if (this.followed.has(channel) || this.closing) return;
    const attempt = this.subscriber.ssubscribe(channel).then(() => undefined);
    this.followed.set(channel, attempt);
    attempt.then(
      () => {
        // Waiters registered before Redis confirmed may have missed their notice: they read again.
        if (!this.closing) this.settings.followed(clientKey);
      },
      (error: unknown) => {
        // Forgotten, so that the next wait or publish for the tenant tries again.
        if (this.followed.get(channel) === attempt) this.followed.delete(channel);
        if (this.closing) return;
        this.settings.logger.warn(
          { event: 'notice_subscribe_failed', err: error },
          "Could not subscribe to a tenant's notices; retrying on its next wait",
        );
      },
    );
  }

  async ready(): Promise<void> {
    try {
      // No tenant is known yet: ready means the subscriber Cluster answers.
      await this.subscriber.ping();
    } catch (error) {
      throw new LockUnavailableError(
        'The notice subscriber cannot reach the Redis Cluster',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
        error,
      );
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await quit(this.subscriber);
  }

  private channel(clientKey: string): string {
    return `${this.keyPrefix}${tenantTag(clientKey)}:notices`;
  }
}
