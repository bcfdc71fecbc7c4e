// In-memory fan-out of notices to per-user waiters and to listeners, so one subscription serves them all.

import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import type { Notice } from './notice';
import type { UserRef } from '../types';
import { assertUserRef, encodeClientKey, userId } from '../store/user-key';

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  settle(notice: Notice | null): void;
}

/**
 * Holds the waiters and listeners of one process and dispatches each notice to them in memory.
 * A channel feeds it from wherever its notices arrive (Redis pub/sub, or its own `publish`), so a
 * burst of 200 waiters costs 200 map entries and no Redis command at all (invariant 9).
 */
export class NoticeHub {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly listeners = new Set<(notice: Notice) => void>();
  private closed = false;

  constructor(private readonly logger: Logger = silentLogger) {}

  /**
   * Registers a wait for the next notice about `user`. The promise resolves with that notice, or
   * with `null` after `ms` or on `cancel()`; either way the timer is cleared and the waiter removed.
   * After {@link close} it resolves with `null` at once.
   * @throws TypeError when `user` or `ms` is malformed.
   */
  wait(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    assertUserRef(user);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new TypeError('waitForNotice(user, ms): ms must be a finite number >= 0');
    }
    if (this.closed) return { promise: Promise.resolve(null), cancel: () => undefined };

    const id = userId(user);
    let waiter!: Waiter;
    const promise = new Promise<Notice | null>((resolve) => {
      // Node turns a delay past 2^31 - 1 ms into 1 ms; a very long wait must not become an instant one.
      const timer = setTimeout(() => waiter.settle(null), Math.min(ms, MAX_TIMER_MS));
      waiter = {
        settle: (notice) => {
          clearTimeout(timer);
          this.remove(id, waiter);
          resolve(notice);
        },
      };
    });
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(waiter);
    return { promise, cancel: () => waiter.settle(null) };
  }

  /** Calls `listener` for every dispatched notice until the returned function is called. */
  subscribe(listener: (notice: Notice) => void): () => void {
    if (typeof listener !== 'function')
      throw new TypeError('onNotice(listener): listener must be a function');
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Hands a notice to every listener, then wakes every waiter it concerns (a purge: the whole tenant's). */
  dispatch(notice: Notice): void {
    if (this.closed) return;
    const frozen: Notice = Object.freeze({
      user: Object.freeze({ clientKey: notice.user.clientKey, accountId: notice.user.accountId }),
      kind: notice.kind,
      ...(notice.origin === undefined ? {} : { origin: notice.origin }),
    });
    // Listeners first: they drop cached tokens, and a waiter that wakes must not find a stale one.
    for (const listener of [...this.listeners]) {
      try {
        listener(frozen);
      } catch (error) {
        // One faulty listener must not starve the others nor the waiters.
        this.logger.error({ err: error, kind: frozen.kind }, 'A notice listener threw');
      }
    }
    for (const id of this.idsConcerned(frozen)) {
      const set = this.waiters.get(id);
      if (!set) continue;
      this.waiters.delete(id);
      for (const waiter of set) waiter.settle(frozen);
    }
  }

  /**
   * Resolves the pending waits of the tenant's users with `null`, as a timeout would: they go back
   * and read again. For a channel that only now hears the tenant's notices, and so may have missed
   * one those waiters were registered for.
   */
  release(clientKey: string): void {
    for (const id of this.tenantIds(clientKey)) {
      const set = this.waiters.get(id)!;
      this.waiters.delete(id);
      for (const waiter of set) waiter.settle(null);
    }
  }

  /** Resolves every pending wait with `null`, clears its timer and forgets every listener. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const waiter of set) waiter.settle(null);
  }

  /** The waiter keys a notice wakes: its user's, or every user's of the tenant for a purge. */
  private idsConcerned(notice: Notice): string[] {
    if (notice.kind !== 'tenant_purged') return [userId(notice.user)];
    return this.tenantIds(notice.user.clientKey);
  }

  /** The waiter keys of the tenant's users. */
  private tenantIds(clientKey: string): string[] {
    // A user id is `<base64url clientKey>.<base64url accountId>` and base64url has no '.', so this
    // prefix matches the tenant's users and no other tenant's. Purges are rare; a scan is fine.
    const prefix = `${encodeClientKey(clientKey)}.`;
    return [...this.waiters.keys()].filter((id) => id.startsWith(prefix));
  }

  private remove(id: string, waiter: Waiter): void {
    const set = this.waiters.get(id);
    if (set?.delete(waiter) && set.size === 0) this.waiters.delete(id);
  }
}
