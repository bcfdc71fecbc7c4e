// The embedded default channel: notices reach the waiters and listeners of this process only.

import { LockUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import type { UserRef } from '../types';
import { type Notice, assertNotice } from './notice';
import type { NoticeChannel } from './notice-channel';
import { NoticeHub } from './notice-hub';

/** Options of {@link InProcessNoticeChannel}. */
export interface InProcessNoticeChannelOptions {
  /** A pino-compatible logger, for listeners that throw. Default: silent. */
  logger?: Logger;
}

/**
 * A {@link NoticeChannel} for a single process: `publish` dispatches to an in-memory hub. It
 * reaches no other process (`distributed` is false), so it pairs with `InProcessRefreshLock`.
 */
export class InProcessNoticeChannel implements NoticeChannel {
  readonly distributed = false;
  private readonly hub: NoticeHub;
  private closed = false;

  constructor(options: InProcessNoticeChannelOptions = {}) {
    this.hub = new NoticeHub(options.logger ?? silentLogger);
  }

  /** Resolves at once while open, like `RedisNoticeChannel.ready()`, so callers need not tell them apart. */
  async ready(): Promise<void> {
    this.assertOpen();
  }

  /** @inheritDoc */
  async publish(notice: Notice): Promise<void> {
    assertNotice(notice);
    this.assertOpen();
    this.hub.dispatch(notice);
  }

  /** @inheritDoc */
  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    return this.hub.wait(user, ms);
  }

  /** @inheritDoc */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /** Resolves pending waits with `null` and clears their timers. */
  async close(): Promise<void> {
    this.closed = true;
    this.hub.close();
  }

  private assertOpen(): void {
    // A LockUnavailableError, as before notices had a seam of their own: a request racing a
    // shutdown gets a 503, not a 500.
    if (this.closed)
      throw new LockUnavailableError(
        'The in-process notice channel is closed',
        UNAVAILABLE_RETRY_AFTER_SECONDS,
      );
  }
}
