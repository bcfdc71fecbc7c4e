// The embedded default lock: per-user mutual exclusion and notices inside one process only.

import { LockUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { NoticeHub, assertNotice } from './notice-hub';
import { type Notice, type RefreshLock, assertJobName } from './refresh-lock';
import type { UserRef } from '../types';
import { assertUserRef, userId } from '../store/user-key';

/** Options of {@link InProcessRefreshLock}. */
export interface InProcessRefreshLockOptions {
  /** A pino-compatible logger, for listeners that throw. Default: silent. */
  logger?: Logger;
}

/**
 * A {@link RefreshLock} for a single process: a set of held users and an in-memory notice hub.
 * It excludes nothing across processes (`distributed` is false), so pairing it with a shared
 * store is a configuration error. The signal it hands to `fn` never aborts: nothing can take a
 * lock that lives in this process's memory away from its holder.
 */
export class InProcessRefreshLock implements RefreshLock {
  readonly distributed = false;
  private readonly held = new Set<string>();
  private readonly hub: NoticeHub;
  private closed = false;

  constructor(options: InProcessRefreshLockOptions = {}) {
    this.hub = new NoticeHub(options.logger ?? silentLogger);
  }

  /** Resolves at once while open, like `RedlockRefreshLock.ready()`, so callers need not tell them apart. */
  async ready(): Promise<void> {
    this.assertOpen();
  }

  /** @inheritDoc */
  async tryWithLock<T>(
    user: UserRef,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertUserRef(user);
    if (typeof fn !== 'function') throw new TypeError('tryWithLock(user, fn): fn must be a function');
    this.assertOpen();
    return this.tryHolding(userId(user), fn);
  }

  /** @inheritDoc */
  async tryWithJobLock<T>(
    job: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    assertJobName(job);
    if (typeof fn !== 'function') throw new TypeError('tryWithJobLock(job, fn): fn must be a function');
    this.assertOpen();
    // `:` never occurs in a user id (base64url), so a job cannot take a user's lock.
    return this.tryHolding(`job:${job}`, fn);
  }

  private async tryHolding<T>(
    id: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    // Checked and taken before the first await, so two calls in the same tick cannot both win.
    if (this.held.has(id)) return { acquired: false };
    this.held.add(id);
    try {
      return { acquired: true, value: await fn(new AbortController().signal) };
    } finally {
      this.held.delete(id);
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
    this.hub.dispatch(notice);
  }

  /** @inheritDoc */
  onNotice(listener: (notice: Notice) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /** Resolves pending waits with `null` and clears their timers. Running holders finish normally. */
  async close(): Promise<void> {
    this.closed = true;
    this.hub.close();
  }

  private assertOpen(): void {
    // A LockUnavailableError, not a bare Error: a request racing a shutdown gets a 503, not a 500.
    if (this.closed) throw new LockUnavailableError('The in-process refresh lock is closed', 5);
  }
}
