// Why a token request failed, judged by whether it can have reached the server and may still
// commit there: only one that cannot commit late may be sent again at once (DESIGN.md step 7).

import type { InDoubtReason } from '../types';

/**
 * Error codes raised before the request's body left this machine: the name did not resolve, no
 * connection was made, or TLS refused the server's certificate during the handshake. Undici
 * (Node's `fetch`) puts them on `error.cause.code`. Anything not listed (a reset, a closed
 * socket, a timeout) may have come after the body was sent, so it is not here.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  // Name resolution.
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  // The TCP connection was never made.
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  // The TLS handshake refused the server, before any request byte was written.
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

/** How a fetch that threw ended, for the chain. */
export type FetchFailure =
  /** It cannot have reached the server: safe to send again at once. `error` is the code. */
  | { sent: false; error: string }
  /** It may have reached the server, which may still commit it: a timeout, or anything else. */
  | { sent: 'maybe'; reason: 'timeout' | 'network' };

/**
 * Classifies what a `fetch` threw. `timedOut` tells whether the request's own timeout fired: a
 * timeout is never proof that nothing was sent, since the connection may have been made and the
 * body written before it fired.
 */
export function classifyFetchFailure(error: unknown, timedOut: boolean): FetchFailure {
  const code = findErrorCode(error);
  if (code !== undefined && NOT_SENT_CODES.has(code)) return { sent: false, error: code };
  // By name: a DOMException of another realm is not `instanceof Error`.
  if (timedOut || (error as { name?: unknown } | null)?.name === 'TimeoutError')
    return { sent: 'maybe', reason: 'timeout' };
  return { sent: 'maybe', reason: 'network' };
}

/** The first string `code` on the error or its causes (undici wraps the socket's error). */
function findErrorCode(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** A gateway answers these while the server behind it may still be working on the request. */
const GATEWAY_STATUSES: ReadonlySet<number> = new Set([502, 504]);

/**
 * Whether a request in doubt may still reach the server and commit later: a timeout or reset
 * after sending, or a gateway's 502 or 504. Any other answer ended the exchange: a retry cannot
 * race it, and if it committed, the retry is a leeway reuse.
 */
export function mayCommitLate(reason: InDoubtReason, status?: number): boolean {
  if (status !== undefined && GATEWAY_STATUSES.has(status)) return true;
  return reason === 'timeout' || reason === 'network';
}
