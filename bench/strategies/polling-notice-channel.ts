// A NoticeChannel whose waiters never hear a notice: they re-read on their timeout only. It turns
// this project into "polling only" for part 2, with nothing else changed.

import type { Notice, NoticeChannel, RedisNoticeChannel, UserRef } from 'jira-token-rotation';

export class PollingNoticeChannel implements NoticeChannel {
  readonly distributed = true;

  constructor(private readonly inner: RedisNoticeChannel) {}

  /** Sleeps `ms`, whatever is published meanwhile: the waiter's bounded re-read is its only wake-up. */
  waitForNotice(_user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let settle: (value: null) => void = () => undefined;
    const promise = new Promise<Notice | null>((resolve) => {
      settle = resolve;
      timer = setTimeout(() => resolve(null), ms);
    });
    return {
      promise,
      cancel: () => {
        clearTimeout(timer);
        settle(null);
      },
    };
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  publish(notice: Notice): Promise<void> {
    return this.inner.publish(notice);
  }

  /** Cache invalidation still listens: only the waiters are deaf. */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.inner.onNotice(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
