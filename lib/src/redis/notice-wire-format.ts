// How a notice travels on the Redis channel: `{"u": userId, "k": kind, "o": origin}`, never a token.

import { type Notice, assertNotice, isNoticeKind, isNoticeOrigin } from '../notice/notice';
import { parseUserId, userId } from '../store/user-key';

/** The message for a checked notice: the user id, the kind and the origin only (invariant 6). */
export function encodeNotice(notice: Notice): string {
  return JSON.stringify({ u: userId(notice.user), k: notice.kind, o: notice.origin });
}

/** Decodes a message off the channel, or `null` if it is not a well-formed notice. */
export function parseNotice(message: string): Notice | null {
  let data: unknown;
  try {
    data = JSON.parse(message);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const { u, k, o } = data as { u?: unknown; k?: unknown; o?: unknown };
  if (typeof u !== 'string' || !isNoticeKind(k) || !isNoticeOrigin(o)) return null;
  try {
    const notice: Notice = { user: parseUserId(u), kind: k, ...(o === undefined ? {} : { origin: o }) };
    assertNotice(notice);
    // Only the canonical encoding: base64url decoding tolerates junk that could alias another user.
    return userId(notice.user) === u ? notice : null;
  } catch {
    return null;
  }
}
