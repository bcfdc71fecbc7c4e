// What a well-formed token record is, checked on every store write and on every read from Redis.

import { RecordUnreadableError } from '../errors';
import type { InDoubtReason, RecordVersion, TokenRecord, TokenState } from '../types';

const STATES: readonly TokenState[] = ['active', 'rotating', 'in_doubt', 'reauthorization_required'];
const IN_DOUBT_REASONS: readonly InDoubtReason[] = [
  'timeout',
  'network',
  'server_error',
  'bad_response',
  'missing_refresh_token',
  'holder_died',
];

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const isVersion = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The first thing wrong with `value` as a {@link TokenRecord}, or `undefined` when it is one.
 * The description names fields, never their values: a record holds ciphertext and ids that have
 * no place in an error message (invariant 6). Unknown extra fields are allowed, so a newer writer's
 * records stay readable.
 */
export function recordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not an object';
  if (!isNonEmptyString(value.generation)) return 'generation is not a non-empty string';
  if (!isVersion(value.version)) return 'version is not a non-negative safe integer';
  if (!STATES.includes(value.state as TokenState)) return 'state is not a known state';
  for (const field of ['expiresAt', 'lastRotatedAt', 'familyStartedAt']) {
    if (!isFiniteNumber(value[field])) return `${field} is not a finite number`;
  }
  if (!isNonEmptyString(value.ciphertext)) return 'ciphertext is not a non-empty string';
  const { lease, inDoubt, site } = value;
  if (
    lease !== undefined &&
    !(
      isObject(lease) &&
      typeof lease.fence === 'string' &&
      isFiniteNumber(lease.until) &&
      isFiniteNumber(lease.startedAt)
    )
  ) {
    return 'lease is not { fence, until, startedAt }';
  }
  if (
    inDoubt !== undefined &&
    !(
      isObject(inDoubt) &&
      isFiniteNumber(inDoubt.since) &&
      isFiniteNumber(inDoubt.deadline) &&
      IN_DOUBT_REASONS.includes(inDoubt.reason as InDoubtReason) &&
      (inDoubt.retryNotBefore === undefined || isFiniteNumber(inDoubt.retryNotBefore))
    )
  ) {
    return 'inDoubt is not { since, deadline, reason }';
  }
  if (
    site !== undefined &&
    !(isObject(site) && typeof site.cloudId === 'string' && typeof site.url === 'string')
  ) {
    return 'site is not { cloudId, url }';
  }
  return undefined;
}

/**
 * Checks the arguments of {@link TokenStore.compareAndSet}. The store never bumps versions itself,
 * but a record that does not move past `expected` is always a caller bug: without this check it
 * would silently make two different records share one (generation, version).
 *
 * @throws TypeError when `expected` or `record` is malformed, or `record.version` does not grow.
 */
export function assertCompareAndSetArguments(expected: RecordVersion | null, record: TokenRecord): void {
  if (expected !== null) {
    const e = expected as unknown;
    if (!isObject(e) || !isNonEmptyString(e.generation) || !isVersion(e.version)) {
      throw new TypeError(
        'expected must be null or { generation: non-empty string, version: non-negative integer }',
      );
    }
  }
  const problem = recordProblem(record);
  if (problem !== undefined) throw new TypeError(`record is not a TokenRecord: ${problem}`);
  if (expected !== null && record.version <= expected.version) {
    throw new TypeError(
      `record.version (${record.version}) must be greater than expected.version (${expected.version}): ` +
        'the caller bumps the version on every write',
    );
  }
}

/** @throws TypeError unless `limit` is a non-negative safe integer. */
export function assertLimit(limit: unknown): asserts limit is number {
  if (!isVersion(limit)) throw new TypeError('limit must be a non-negative integer');
}

/** @throws TypeError unless `limit` is a positive safe integer (a page of a cursor listing). */
export function assertPageLimit(limit: unknown): asserts limit is number {
  if (!isVersion(limit) || limit === 0) throw new TypeError('limit must be a positive integer');
}

/**
 * @throws TypeError unless `cursor` is `undefined` (the first page) or what a page returned: both
 * stores' cursors are unsigned decimal integers (Redis's SCAN cursors are 64-bit, up to 20 digits;
 * the Redis store's `listAll` puts a 2-digit index shard in front of one).
 */
export function assertCursor(cursor: unknown): asserts cursor is string | undefined {
  if (cursor !== undefined && (typeof cursor !== 'string' || !/^\d{1,22}$/.test(cursor))) {
    throw new TypeError('cursor must be undefined or the cursor of a previous page');
  }
}

/** @throws TypeError unless `instant` is a finite number (epoch ms). */
export function assertInstant(name: string, instant: unknown): asserts instant is number {
  if (!isFiniteNumber(instant)) throw new TypeError(`${name} must be a finite number of epoch milliseconds`);
}

/** @throws TypeError unless `clientKey` is a non-empty string of at most 512 characters, like in `assertUserRef`. */
export function assertClientKey(clientKey: unknown): asserts clientKey is string {
  if (typeof clientKey !== 'string' || clientKey.length === 0 || clientKey.length > 512) {
    throw new TypeError('clientKey must be a non-empty string of at most 512 characters');
  }
}

/**
 * A stored record that is not a well-formed {@link TokenRecord}: the store's data is corrupt (or
 * written by something else), so the record is unreadable. It is a {@link RecordUnreadableError}
 * (same `code`, `jira_record_unreadable`) with a message that says what is wrong instead of
 * blaming the decryption keys.
 */
export class MalformedStoredRecordError extends RecordUnreadableError {
  constructor(problem: string, cause?: unknown) {
    super(cause);
    // The base message speaks of decryption, which this record never reached.
    this.message = `The stored Jira token record is malformed: ${problem}`;
  }
}

/**
 * Parses the JSON of a stored record and checks its shape.
 *
 * @throws MalformedStoredRecordError when `json` is not JSON, or not the JSON of a TokenRecord.
 */
export function parseStoredRecord(json: string): TokenRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    // The SyntaxError's message may quote the stored text, so it is not kept as the cause.
    throw new MalformedStoredRecordError('its JSON does not parse');
  }
  const problem = recordProblem(value);
  if (problem !== undefined) throw new MalformedStoredRecordError(problem);
  return value as TokenRecord;
}
