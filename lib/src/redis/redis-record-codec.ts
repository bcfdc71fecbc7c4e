// How a TokenRecord lives in its Redis hash: the fields the compare-and-set script compares
// (generation, version, state) beside the record's JSON, and the checked read back.

import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { StoredRecord } from '../store/token-store';
import { MalformedStoredRecordError, parseStoredRecord } from '../store/token-store-validation';
import type { RecordVersion, TokenRecord, UserRef } from '../types';
import { assertUserRef, encodeAccountId, parseUserId } from '../store/user-key';
import { errorSummary } from './redis-store-errors';
import type { RedisTokenKeys } from './redis-token-keys';
import type { TokenStoreScripts } from './redis-token-store-scripts';

/** The compare-and-set script's arguments for writing `record` over `expected` (`null`: create). */
export function compareAndSetArguments(
  user: UserRef,
  expected: RecordVersion | null,
  record: TokenRecord,
): Parameters<TokenStoreScripts['compareAndSet']>[1] {
  return {
    mode: expected === null ? 'create' : 'update',
    expectedGeneration: expected?.generation ?? '',
    expectedVersion: expected === null ? '' : String(expected.version),
    generation: record.generation,
    version: String(record.version),
    state: record.state,
    json: JSON.stringify(record),
    member: encodeAccountId(user.accountId),
  };
}

/** Reads records back from their hashes, checking that the fields and the JSON agree. */
export class RedisRecordReader {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisTokenKeys,
    private readonly logger: Logger,
  ) {}

  /** Reads and checks a record. Not translated: callers run it inside `storeBoundary`. */
  async read(user: UserRef): Promise<TokenRecord | null> {
    const [generation, version, state, json] = await this.redis.hmget(
      this.keys.record(user),
      'generation',
      'version',
      'state',
      'record',
    );
    if (generation === null && version === null && state === null && json === null) return null;
    if (json === null) throw new MalformedStoredRecordError('its hash has no record field');
    const record = parseStoredRecord(json);
    // The script compares the fields, callers trust the JSON: they must say the same.
    if (record.generation !== generation || String(record.version) !== version || record.state !== state) {
      throw new MalformedStoredRecordError('its generation, version or state field disagrees with its JSON');
    }
    return record;
  }

  /**
   * The record behind an index member: `null` when the member is not a user id or the record is
   * gone, `'unreadable'` (logged) when it is malformed, so one corrupt record cannot stop a sweep.
   */
  async readMember(member: string): Promise<StoredRecord | null | 'unreadable'> {
    let user: UserRef;
    try {
      user = parseUserId(member);
      assertUserRef(user);
    } catch {
      return null;
    }
    try {
      const record = await this.read(user);
      return record === null ? null : { user, record };
    } catch (err) {
      if (!(err instanceof MalformedStoredRecordError)) throw err;
      this.logger.warn(
        { store: 'RedisTokenStore', member, err: errorSummary(err) },
        'Skipping a malformed token record',
      );
      return 'unreadable';
    }
  }
}
