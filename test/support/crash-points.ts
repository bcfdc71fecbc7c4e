// Where a lock holder can die in a rotation, and the decorators that stop it exactly there: the
// holder tells the parent over IPC and then never returns, so the parent can SIGKILL it at that step.

import type {
  Notice,
  NoticeChannel,
  RecordVersion,
  StoredRecord,
  TokenRecord,
  TokenStore,
  UserRef,
} from 'jira-token-rotation';
import type { FetchProbe } from '../../support/fetch-probe';

/**
 * - `before_request`: the lease is taken, the token request is not sent;
 * - `after_commit`: the simulator rotated and answered, the answer is not stored;
 * - `before_notice`: the new tokens are stored, the waiters are not told.
 */
export type CrashPoint = 'before_request' | 'after_commit' | 'before_notice';

export const CRASH_POINTS: readonly CrashPoint[] = ['before_request', 'after_commit', 'before_notice'];

/** Settles never: the holder stays frozen at its crash point until it is killed. */
export function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}

/** Arms the token-endpoint crash points on the probe's next token request. */
export function armTokenRequest(probe: FetchProbe, point: CrashPoint, reached: () => void): void {
  if (point === 'before_request') {
    probe.interceptNext(async () => {
      reached();
      return never();
    });
  } else if (point === 'after_commit') {
    probe.interceptNext(async (send) => {
      // The probe's send() reads the whole answer: the rotation is committed and delivered.
      await send();
      reached();
      return never();
    });
  }
}

/**
 * A store that calls `onLeaseTaken` (once) after the compare-and-set that takes a rotation's lease,
 * before the holder goes on; the test uses it to line waiters up behind a live lease.
 */
export class PausingStore implements TokenStore {
  private paused = false;

  /** The shared clock, when the test gives one (see `TokenStore.time`). */
  readonly time?: () => Promise<number>;

  constructor(
    private readonly inner: TokenStore,
    private readonly onLeaseTaken?: () => Promise<void>,
    time?: () => Promise<number>,
  ) {
    if (time) this.time = time;
  }

  get(user: UserRef): Promise<TokenRecord | null> {
    return this.inner.get(user);
  }

  async compareAndSet(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    const written = await this.inner.compareAndSet(user, expected, record);
    if (written && record.state === 'rotating' && this.onLeaseTaken && !this.paused) {
      this.paused = true;
      await this.onLeaseTaken();
    }
    return written;
  }

  delete(user: UserRef): Promise<boolean> {
    return this.inner.delete(user);
  }

  deleteTenant(clientKey: string): Promise<number> {
    return this.inner.deleteTenant(clientKey);
  }

  listByState(state: Exclude<TokenRecord['state'], 'active'>, limit: number): Promise<StoredRecord[]> {
    return this.inner.listByState(state, limit);
  }

  listIdleSince(before: number, limit: number): Promise<StoredRecord[]> {
    return this.inner.listIdleSince(before, limit);
  }
}

/** A distributed notice channel whose `rotated` notice can be made to freeze its publisher (`before_notice`). */
export class CrashingNoticeChannel implements NoticeChannel {
  readonly distributed = true;

  constructor(
    private readonly inner: NoticeChannel,
    private readonly beforeRotatedNotice?: () => Promise<void>,
  ) {}

  waitForNotice(user: UserRef, ms: number): { promise: Promise<Notice | null>; cancel(): void } {
    return this.inner.waitForNotice(user, ms);
  }

  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  async publish(notice: Notice): Promise<void> {
    if (notice.kind === 'rotated' && this.beforeRotatedNotice) await this.beforeRotatedNotice();
    return this.inner.publish(notice);
  }

  onNotice(listener: (notice: Notice) => void): () => void {
    return this.inner.onNotice(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
