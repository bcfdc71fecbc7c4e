// Whether a token request that failed may still commit at the server later, and so whether the
// same refresh token may be sent again at once (DESIGN.md step 7, invariant 12).

import type { InDoubtReason } from '../types';
import type { RefreshOutcome } from './oauth-client';

/**
 * Statuses a gateway answers while the server behind it may still be working on the request:
 * 502 Bad Gateway (its upstream failed or went away mid-request) and 504 Gateway Timeout (it
 * stopped waiting). Any other 5xx is the answer of whoever finished with the request.
 */
const GATEWAY_STATUSES: ReadonlySet<number> = new Set([502, 504]);

/**
 * Whether a request whose outcome is in doubt may still be on its way to the server (a queue, a
 * slow gateway, a retried packet) and commit there later: a timeout or a reset after sending, or
 * a gateway's 502 or 504. An answer that came back from the server (another 5xx, an unreadable or
 * incomplete 200) ended the exchange: a retry cannot race it, and if it committed, the retry is a
 * leeway reuse. A dead holder has no request of ours left to wait for.
 */
export function mayCommitLate(reason: InDoubtReason, status?: number): boolean {
  if (status !== undefined && GATEWAY_STATUSES.has(status)) return true;
  return reason === 'timeout' || reason === 'network';
}

/**
 * Whether the holder may send the same refresh token again at once, within its attempts: the
 * request cannot have reached the server (`not_sent`), or the server answered a 5xx that ended
 * the exchange. A reset, a timeout, a 502 or a 504 are never repeated at once (the commit horizon
 * holds them back), nor an answered 2xx that was unusable (recovery retries it, paced).
 */
export function retriableAtOnce(outcome: RefreshOutcome): boolean {
  if (outcome.kind === 'not_sent') return true;
  return (
    outcome.kind === 'in_doubt' &&
    outcome.reason === 'server_error' &&
    !mayCommitLate(outcome.reason, outcome.status)
  );
}
