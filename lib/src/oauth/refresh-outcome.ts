// What one refresh attempt means for the chain, as the OAuth client reports it, and whether the
// holder may send the same refresh token again at once.

import type { InDoubtReason } from '../types';
import { mayCommitLate } from './fetch-failure';

/** A token response that passed validation. */
export interface ValidTokens {
  accessToken: string;
  /** Absent when the server sent none (or an empty one): the chain is then in doubt. */
  refreshToken?: string;
  expiresInSeconds: number;
  scope?: string;
}

/**
 * What a refresh attempt means for the chain:
 * - `ok`: rotated, here are the tokens;
 * - `invalid_grant`: the refresh token is dead or unknown (still re-read before any verdict);
 * - `invalid_client`: our own credentials are wrong, the chain is untouched;
 * - `in_doubt`: the request may have reached the server, which may have rotated or may still
 *   (a timeout or reset after sending, a dropped connection, a 5xx, an unreadable 200);
 * - `not_rotated`: the server answered, and certainly did not rotate (a definite OAuth error
 *   other than the two above, such as a 429 or `invalid_request`);
 * - `not_sent`: the request cannot have reached the server (the name did not resolve, the
 *   connection was refused, TLS failed before the body was written, or the caller's signal had
 *   aborted before sending). `error` is the code; this one alone may be sent again at once.
 */
export type RefreshOutcome =
  | { kind: 'ok'; tokens: ValidTokens }
  | { kind: 'invalid_grant' }
  | { kind: 'invalid_client' }
  | { kind: 'in_doubt'; reason: InDoubtReason; status?: number }
  | { kind: 'not_rotated'; status?: number; error?: string }
  | { kind: 'not_sent'; error: string; status?: undefined };

/**
 * Whether the holder may send the same refresh token again at once: it cannot have reached the
 * server (`not_sent`), or the server answered a 5xx that ended the exchange.
 */
export function retriableAtOnce(outcome: RefreshOutcome): boolean {
  if (outcome.kind === 'not_sent') return true;
  return (
    outcome.kind === 'in_doubt' &&
    outcome.reason === 'server_error' &&
    !mayCommitLate(outcome.reason, outcome.status)
  );
}
