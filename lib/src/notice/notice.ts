// What a notice is, and the checks every channel runs on one before it publishes or dispatches it.

import type { UserRef } from '../types';
import { assertUserRef } from '../store/user-key';

/**
 * What a notice says happened to a user's record. Notices never carry tokens.
 * `tenant_purged` concerns every user of `user.clientKey` (its `accountId` is empty).
 */
export type NoticeKind = 'rotated' | 'invalidated' | 'tenant_purged';

/** A change to a user's record (or a tenant's, for `tenant_purged`), told to every process. */
export interface Notice {
  user: UserRef;
  kind: NoticeKind;
  /**
   * Who published it (an opaque id of at most 64 characters), so a publisher can ignore its own
   * notices: it has already updated its own cache.
   */
  origin?: string;
}

const KINDS: ReadonlySet<string> = new Set<NoticeKind>(['rotated', 'invalidated', 'tenant_purged']);

/** True for the kinds a notice may have; anything else off the wire is dropped. */
export function isNoticeKind(value: unknown): value is NoticeKind {
  return typeof value === 'string' && KINDS.has(value);
}

/** True for an `origin` a notice may carry: absent, or a string of at most 64 characters. */
export function isNoticeOrigin(value: unknown): value is string | undefined {
  return value === undefined || (typeof value === 'string' && value.length <= 64);
}

/**
 * Checks a notice before it is published or dispatched: a user notice names a whole user, a
 * `tenant_purged` notice names the tenant only (its `accountId` is `''`).
 * @throws TypeError when the user or the kind is malformed.
 */
export function assertNotice(notice: unknown): asserts notice is Notice {
  const n = notice as Partial<Notice> | null;
  if (!n || typeof n !== 'object') throw new TypeError('notice must be { user, kind }');
  if (!isNoticeOrigin(n.origin)) {
    throw new TypeError('notice.origin must be a string of at most 64 characters');
  }
  if (!isNoticeKind(n.kind)) {
    throw new TypeError("notice.kind must be 'rotated', 'invalidated' or 'tenant_purged'");
  }
  if (n.kind !== 'tenant_purged') return assertUserRef(n.user);
  const user = n.user as Partial<UserRef> | null | undefined;
  if (!user || typeof user !== 'object' || user.accountId !== '') {
    throw new TypeError("a 'tenant_purged' notice must have user.accountId ''");
  }
  // The clientKey obeys the same rules as anywhere else; the accountId stand-in only satisfies the check.
  assertUserRef({ clientKey: user.clientKey, accountId: '-' });
}
