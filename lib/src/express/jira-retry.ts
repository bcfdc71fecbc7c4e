// Jira's own limits: 429 and 503 answers with Retry-After are retried a bounded number of times,
// with jitter, so a burst of macros backs off together instead of failing together.

import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULTS } from '../manager/options';

/** How `req.jira.fetch` retries 429 and 503 answers. */
export interface JiraRetryPolicy {
  /** Retries after the first answer. Default 2; 0 disables retrying. */
  maxRetries: number;
  /** A Retry-After longer than this is not waited for: the answer is returned as it is. Default 5 000. */
  maxDelayMs: number;
  /** Wait when the answer has no usable Retry-After, doubled at each retry. Default 500. */
  baseDelayMs: number;
}

/** The manager's defaults (`apiMaxRetries`, `apiRetryMaxDelayMs`), and the first wait's own. */
export const DEFAULT_JIRA_RETRY: Readonly<JiraRetryPolicy> = Object.freeze({
  maxRetries: DEFAULTS.apiMaxRetries,
  maxDelayMs: DEFAULTS.apiRetryMaxDelayMs,
  baseDelayMs: 500,
});

/** Methods that may be repeated after a 503, which may have been half-processed. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Whether an answer may be retried: a 429 was not processed (any method); a 503 is retried for
 * idempotent methods only.
 */
export function isRetryable(status: number, method: string): boolean {
  return status === 429 || (status === 503 && IDEMPOTENT.has(method.toUpperCase()));
}

/**
 * Milliseconds from a Retry-After header (delta-seconds or an HTTP date), or undefined.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (1-based), or undefined when the server asks
 * for longer than the policy allows. Jitter (0–20 %) spreads a burst's retries.
 */
export function retryDelay(
  policy: JiraRetryPolicy,
  attempt: number,
  retryAfter: string | null,
  now: number,
  random: () => number = Math.random,
): number | undefined {
  const asked = parseRetryAfter(retryAfter, now) ?? policy.baseDelayMs * 2 ** (attempt - 1);
  if (asked > policy.maxDelayMs) return undefined;
  return Math.round(asked * (1 + 0.2 * random()));
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}
